// Servio's wire names (Add/Update/Delete, Clients/Companies/Guests/Rooms) to the contract's names and topics.
import { servioEntities } from './options.js'
import type { ServioAction, ServioEntity } from './types.js'

const actionsByKey: ReadonlyMap<string, ServioAction> = new Map([
  ['add', 'add'],
  ['update', 'update'],
  ['delete', 'delete'],
])

const entitiesByKey: ReadonlyMap<string, ServioEntity> = new Map([
  ['clients', 'client'],
  ['companies', 'company'],
  ['guests', 'guest'],
  ['rooms', 'room'],
])

/** Default topic per entity (SPEC §3). */
export const ENTITY_TOPICS: Readonly<Record<ServioEntity, string>> = {
  client: 'servio.clients',
  company: 'servio.companies',
  guest: 'servio.guests',
  room: 'servio.rooms',
}

export const SERVIO_TOPICS: readonly string[] = servioEntities.map((entity) => ENTITY_TOPICS[entity])

// Servio's own examples send "Update " and other stray spacing; case is normalised too, so a sender
// upgrade that changes either never turns data into an "unknown key".
function normaliseKey(key: string): string {
  return key.trim().toLowerCase()
}

/** The action a batch key names ("Add", "Update ", "delete", …), or undefined for anything else. */
export function actionOf(key: string): ServioAction | undefined {
  return actionsByKey.get(normaliseKey(key))
}

/** The entity a list key names ("Clients", " guests", …), or undefined for anything else. */
export function entityOf(key: string): ServioEntity | undefined {
  return entitiesByKey.get(normaliseKey(key))
}
