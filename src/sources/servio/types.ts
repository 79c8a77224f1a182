// A Servio HMS change batch as the bridge reads it, and the Avro value of one change (SPEC §3).
import type { ServioAction, ServioEntity } from './options.js'

export type { ServioAction, ServioEntity }

/** One (action, entity, id) of a batch: what becomes one record. */
export interface ServioChange {
  /** add, update, delete, or the lower-cased name of an action key the document does not list. */
  action: string
  /** client, company, guest, room, or the lower-cased name of an entity key the document does not list. */
  entity: string
  /** Whether the entity key is one the document lists (Clients, Companies, Guests, Rooms); if not, servio.other. */
  listed: boolean
  /** A positive safe integer: Servio ids are database keys (see parse.ts). */
  id: number
}

/** The Avro value of a Servio record; field order follows schemas/servio_change.avsc. */
export interface ServioChangeValue {
  event_id: string
  batch_id: string
  source: string
  hotel_id: string | null
  received_at: number
  entity: string
  action: string
  id: number
  /** From v2: the request's User-Agent, null when absent. */
  user_agent: string | null
}
