// The Servio source component: one record per (action, entity, id), filtered by the source's entities and actions.
import { BridgeError, ErrorCodes } from '../../errors.js'
import { packageSchema, recordHeaders, type BridgeRecord } from '../../records.js'
import type { IngestResult, SourceComponent } from '../source.js'
import { ENTITY_TOPICS, OTHER_TOPIC, topicOf } from './names.js'
import { OTHER, servioActions, servioEntities, servioOptions, type ServioSourceConfig } from './options.js'
import { parseServio } from './parse.js'
import type { ServioChange, ServioChangeValue } from './types.js'

export { SERVIO_TOPICS } from './names.js'
export type { ServioSourceConfig } from './options.js'

const SCHEMA = packageSchema('servio_change')

/** How a filter names an action: its own name when the document lists it, `other` when it does not. */
const filterAction = (action: string): string => ((servioActions as readonly string[]).includes(action) ? action : OTHER)

function kept(changes: ServioChange[], source: ServioSourceConfig): ServioChange[] {
  const entities: readonly string[] | undefined = source.entities
  const actions: readonly string[] | undefined = source.actions
  if (entities === undefined && actions === undefined) return changes
  return changes.filter(
    (c) =>
      (entities === undefined || entities.includes(c.listed ? c.entity : OTHER)) &&
      (actions === undefined || actions.includes(filterAction(c.action))),
  )
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
  senderSetup(source, url) {
    const flags = filterText(source)
    return `Servio HMS, Settings/Other, tab "Quick response to events", field "Service address":\n  ${url}${flags === '' ? '' : `\n  (set the event flags for ${flags}: the source keeps only those)`}`
  },
  keyOf(topic) {
    return topic === OTHER_TOPIC
      ? 'The entity id, as a decimal string (an entity the Servio document does not list: its name is in entity).'
      : 'The entity id, as a decimal string: one entity\'s changes share a partition, in order.'
  },
  topics(source) {
    const entities: readonly string[] | undefined = source.entities
    const wanted = (name: string): boolean => entities === undefined || entities.includes(name)
    return [...servioEntities.filter(wanted).map((e) => ENTITY_TOPICS[e]), ...(wanted(OTHER) ? [OTHER_TOPIC] : [])]
  },
  ingest(body, context): IngestResult {
    const { source } = context
    const changes = parseServio(body)
    const produced = kept(changes, source)
    const max = context.maxRecords ?? Number.POSITIVE_INFINITY
    if (produced.length > max) {
      throw new BridgeError(ErrorCodes.TOO_MANY_RECORDS, `the batch holds ${produced.length} changes, more than http.maxRecordsPerRequest (${max}) allows in one request`)
    }
    const batchId = context.newId()
    // An all-null batch is not "filtered": there was nothing to filter, and it is answered as produced with 0 records.
    if (produced.length === 0 && changes.length > 0) {
      return { kind: 'filtered', eventId: batchId, reason: `none of the batch's ${changes.length} change(s) is in this source's ${filterText(source)}` }
    }
    const receivedAt = context.receivedAt.getTime()
    const hotelId = source.hotelId ?? null
    const userAgent = context.userAgent ?? null
    const records: BridgeRecord[] = new Array(produced.length)
    for (let i = 0; i < produced.length; i++) {
      const change = produced[i]!
      const { action, entity, id } = change
      const eventId = context.newId()
      const value: ServioChangeValue = { event_id: eventId, batch_id: batchId, source: source.id, hotel_id: hotelId, received_at: receivedAt, entity, action, id, user_agent: userAgent }
      records[i] = {
        topic: topicOf(change),
        key: String(id),
        schema: SCHEMA.name,
        value: value as unknown as Record<string, unknown>,
        headers: recordHeaders(eventId, source.id, context.receivedAt, { sourceType: 'servio', type: `${entity}.${action}` }),
      }
    }
    return { kind: 'records', eventId: batchId, batchId, records }
  },
}
