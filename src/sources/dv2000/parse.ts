// One DV2000 POST body to a typed event, or a BAD_INPUT error saying what is wrong with it.
import { toInt32 } from '../coerce.js'
import { badInput, isJsonObject, parseJsonBody } from '../json-body.js'
import { memberSpans, sliceOf } from '../json-span.js'
import { shown } from '../shown.js'
import { normaliseMessage } from './message.js'
import { categoryName, eventName } from './names.js'
import { occurredAt } from './timestamp.js'
import type { Dv2000Event } from './types.js'

/** The packet's documented top-level fields; anything else is kept in `extra_json`. */
const PACKET_FIELDS = new Set(['category', 'date', 'event', 'message', 'service_id', 'service_name', 'time', 'timestamp'])

export type ParsedDv2000 = Omit<Dv2000Event, 'event_id' | 'source' | 'received_at' | 'user_agent'> & {
  /** Documented message fields that could not be typed; their values stay in message_json. */
  unconvertible: string[]
  utf8: boolean
}

function requiredInt(packet: Record<string, unknown>, name: string): number {
  const value = packet[name]
  if (value === undefined || value === null) throw badInput(`field "${name}" is missing`)
  const n = toInt32(value)
  if (n === undefined) throw badInput(`field "${name}" must be an integer, got ${shown(value)}`)
  return n
}

function requiredText(packet: Record<string, unknown>, name: string): string {
  const value = packet[name]
  if (value === undefined || value === null) throw badInput(`field "${name}" is missing`)
  if (typeof value !== 'string') throw badInput(`field "${name}" must be a string, got ${shown(value)}`)
  return value
}

export function parseDv2000(body: Buffer): ParsedDv2000 {
  const { value: packet, text, utf8 } = parseJsonBody(body)
  if (!isJsonObject(packet)) throw badInput('the body must be a JSON object (a DV2000 event packet)')
  const fields = packet
  const category = requiredInt(fields, 'category')
  const event = requiredInt(fields, 'event')
  const serviceId = requiredInt(fields, 'service_id')
  const serviceName = requiredText(fields, 'service_name')
  const date = requiredText(fields, 'date')
  const time = requiredText(fields, 'time')
  const timestamp = requiredText(fields, 'timestamp')

  const spans = memberSpans(text)
  const messageSpan = spans.get('message')
  const { message, unconvertible } = normaliseMessage(fields['message'], text, messageSpan)

  const extra: string[] = []
  for (const [key, span] of spans) {
    if (!PACKET_FIELDS.has(key)) extra.push(`${JSON.stringify(key)}:${sliceOf(text, span) ?? 'null'}`)
  }

  return {
    category,
    category_name: categoryName(category),
    event,
    event_name: eventName(event),
    service_id: serviceId,
    service_name: serviceName,
    date,
    time,
    timestamp,
    occurred_at: occurredAt(timestamp),
    message,
    message_json: sliceOf(text, messageSpan) ?? 'null',
    extra_json: extra.length === 0 ? null : `{${extra.join(',')}}`,
    unconvertible,
    utf8,
  }
}
