// Servio's wire names (Add/Update/Delete, Clients/Companies/Guests/Rooms) to the contract's names and topics; a key the
// document does not list (a newer Servio) keeps its own trimmed, lower-cased name, and its entity goes to servio.other.
import { servioEntities } from './options.js'
import type { ServioEntity } from './types.js'

const entitiesByKey: ReadonlyMap<string, ServioEntity> = new Map([
  ['clients', 'client'],
  ['companies', 'company'],
  ['guests', 'guest'],
  ['rooms', 'room'],
])

/** Default topic per entity the document lists (SPEC §3). */
export const ENTITY_TOPICS: Readonly<Record<ServioEntity, string>> = {
  client: 'servio.clients',
  company: 'servio.companies',
  guest: 'servio.guests',
  room: 'servio.rooms',
}

/** Where entities the document does not list go, each with its own name in `entity`. */
export const OTHER_TOPIC = 'servio.other'

export const SERVIO_TOPICS: readonly string[] = [...servioEntities.map((entity) => ENTITY_TOPICS[entity]), OTHER_TOPIC]

// Servio's own examples send "Update " and other stray spacing; case is normalised too, so a sender
// upgrade that changes either never turns a known key into an unknown one.
function normaliseKey(key: string): string {
  return key.trim().toLowerCase()
}

/** The action a batch key names: "Add", "Update ", "delete" → add, update, delete; any other key its own name. */
export function actionOf(key: string): string {
  return normaliseKey(key)
}

/**
 * The entity a list key names: "Clients", " guests" → client, guest, listed; any other key its own name, not listed
 * ("Reservations" → reservations; "Guest" → guest, which is not the document's "Guests" and so goes to servio.other).
 */
export function entityOf(key: string): { entity: string; listed: boolean } {
  const name = normaliseKey(key)
  const entity = entitiesByKey.get(name)
  return entity === undefined ? { entity: name, listed: false } : { entity, listed: true }
}

/** The default topic of a change's records. */
export function topicOf(change: { entity: string; listed: boolean }): string {
  return change.listed ? ENTITY_TOPICS[change.entity as ServioEntity] : OTHER_TOPIC
}
