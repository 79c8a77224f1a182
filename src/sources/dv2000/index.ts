// The DV2000 source component: filters by category, routes to the per-category topic with the contract's key.
import { packageSchema, recordHeaders } from '../../records.js'
import type { IngestContext, IngestResult, SourceComponent } from '../source.js'
import { categoryName, HOSPITALITY, ROOM_MOVE } from './names.js'
import { parseDv2000, type ParsedDv2000 } from './parse.js'
import { dv2000Options, type Dv2000SourceConfig } from './options.js'
import type { Dv2000Event } from './types.js'

export type { Dv2000SourceConfig } from './options.js'

const SCHEMA = packageSchema('dv2000_event')

export const DV2000_TOPICS = ['dv2000.general', 'dv2000.telephony', 'dv2000.system', 'dv2000.hospitality', 'dv2000.other'] as const

/** Hospitality events are keyed by room (the destination of a move) so one room's story stays in order. */
export function dv2000Key(event: Pick<Dv2000Event, 'category' | 'event' | 'service_id' | 'message'>): string {
  if (event.category === HOSPITALITY) {
    const room = event.event === ROOM_MOVE ? (event.message?.to ?? event.message?.room) : event.message?.room
    if (room !== undefined && room !== null && room !== '') return room
  }
  return String(event.service_id)
}

export function dv2000Topic(categoryName: string): string {
  return `dv2000.${categoryName}`
}

function toValue(parsed: ParsedDv2000, eventId: string, context: IngestContext): Dv2000Event {
  const { unconvertible: _u, utf8: _t, ...fields } = parsed
  return { event_id: eventId, source: context.source.id, received_at: context.receivedAt.getTime(), ...fields, user_agent: context.userAgent ?? null }
}

export const dv2000Source: SourceComponent<Dv2000SourceConfig> = {
  type: 'dv2000',
  options: dv2000Options,
  schema: SCHEMA.name,
  schemaFile: SCHEMA.file,
  senderSetup(source, url) {
    // The Events server's argument line, its -cat as the source's filter: the sender then posts only what is kept.
    const cat = source.categories === undefined ? '' : ` -cat ${source.categories.join(',')}`
    return `DV2000 Events server (add it by hand: upgrades never do), Arguments:\n  -url ${url}${cat}`
  },
  keyOf(topic) {
    return topic === dv2000Topic('hospitality')
      ? 'The room: message.room, or message.to for a room move (where the guest goes); service_id when the event names no room. One room\'s events share a partition, in order.'
      : 'service_id, the DV2000 service that raised the event, as a decimal string.'
  },
  topics(source) {
    if (source.categories === undefined) return [...DV2000_TOPICS]
    return [...new Set(source.categories.map((c) => dv2000Topic(categoryName(c))))]
  },
  ingest(body, context): IngestResult {
    const eventId = context.newId()
    const parsed = parseDv2000(body)
    const { categories } = context.source
    if (categories !== undefined && !categories.includes(parsed.category)) {
      return { kind: 'filtered', eventId, reason: `category ${parsed.category} is not in this source's categories` }
    }
    const value = toValue(parsed, eventId, context)
    const warnings = parsed.unconvertible.map((field) => `message.${field} could not be typed; kept in message_json`)
    if (!parsed.utf8) warnings.push('the body was not UTF-8 and was read as Windows-1252')
    return {
      kind: 'records',
      eventId,
      warnings,
      records: [
        {
          topic: dv2000Topic(parsed.category_name),
          key: dv2000Key(value),
          schema: SCHEMA.name,
          value: value as unknown as Record<string, unknown>,
          headers: recordHeaders(eventId, context.source.id, context.receivedAt, { sourceType: 'dv2000', type: value.event_name, occurredAt: value.occurred_at }),
        },
      ],
    }
  },
}
