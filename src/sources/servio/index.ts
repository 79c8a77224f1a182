// The Servio source component: one record per (action, entity, id), filtered by the source's entities and actions.
import { packageSchema, recordHeaders, type BridgeRecord } from '../../records.js'
import type { IngestResult, SourceComponent } from '../source.js'
import { ENTITY_TOPICS } from './names.js'
import { servioEntities, servioOptions, type ServioSourceConfig } from './options.js'
import { parseServio } from './parse.js'
import type { ServioChange, ServioChangeValue } from './types.js'

export { SERVIO_TOPICS } from './names.js'
export type { ServioSourceConfig } from './options.js'

const SCHEMA = packageSchema('servio_change')

function kept(changes: ServioChange[], source: ServioSourceConfig): ServioChange[] {
  const { entities, actions } = source
  if (entities === undefined && actions === undefined) return changes
  return changes.filter((c) => (entities === undefined || entities.includes(c.entity)) && (actions === undefined || actions.includes(c.action)))
}

function filterText(source: ServioSourceConfig): string {
  const parts: string[] = []
  if (source.entities !== undefined) parts.push(`entities ${source.entities.join(', ')}`)
  if (source.actions !== undefined) parts.push(`actions ${source.actions.join(', ')}`)
  return parts.join(' and ')
}

export const servioSource: SourceComponent<ServioSourceConfig> = {
  type: 'servio',
  options: servioOptions,
  schema: SCHEMA.name,
  schemaFile: SCHEMA.file,
  topics(source) {
    const { entities } = source
    return servioEntities.filter((e) => entities === undefined || entities.includes(e)).map((e) => ENTITY_TOPICS[e])
  },
  ingest(body, context): IngestResult {
    const { source } = context
    const changes = parseServio(body)
    const batchId = context.newId()
    const produced = kept(changes, source)
    // An all-null batch is not "filtered": there was nothing to filter, and it is answered as produced with 0 records.
    if (produced.length === 0 && changes.length > 0) {
      return { kind: 'filtered', eventId: batchId, reason: `none of the batch's ${changes.length} change(s) is in this source's ${filterText(source)}` }
    }
    const receivedAt = context.receivedAt.getTime()
    const hotelId = source.hotelId ?? null
    const userAgent = context.userAgent ?? null
    const records: BridgeRecord[] = new Array(produced.length)
    for (let i = 0; i < produced.length; i++) {
      const { action, entity, id } = produced[i]!
      const eventId = context.newId()
      const value: ServioChangeValue = { event_id: eventId, batch_id: batchId, source: source.id, hotel_id: hotelId, received_at: receivedAt, entity, action, id, user_agent: userAgent }
      records[i] = {
        topic: ENTITY_TOPICS[entity],
        key: String(id),
        schema: SCHEMA.name,
        value: value as unknown as Record<string, unknown>,
        headers: recordHeaders(eventId, source.id, context.receivedAt),
      }
    }
    return { kind: 'records', eventId: batchId, batchId, records }
  },
}
