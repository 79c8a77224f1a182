// The `message` node of a DV2000 event to the typed hospitality record; the node itself is kept as sent.
import { toBoolean, toInt32, toText } from '../coerce.js'
import { isJsonObject } from '../json-body.js'
import { memberSpans, sliceOf, type Span } from '../json-span.js'
import type { Dv2000Message } from './types.js'

const textFields = [
  'actor', 'date', 'firstname', 'from', 'guestid', 'language', 'lastname',
  'maidstatus', 'mailbox', 'room', 'source', 'time', 'timestamp', 'to',
] as const
const intFields = ['count', 'event', 'line'] as const
const booleanFields = ['isforsync', 'vip'] as const

export interface NormalisedMessage {
  message: Dv2000Message | null
  /** Documented fields whose value could not be converted to their type (kept only in message_json). */
  unconvertible: string[]
}

/**
 * `node` is the parsed message, `text`/`span` where it stands in the body: a number sent for a text field
 * (`"guestid": 15478364`) is taken from its JSON text, so no digit is lost to floating point.
 */
export function normaliseMessage(node: unknown, text: string, span: Span | undefined): NormalisedMessage {
  if (!isJsonObject(node)) return { message: null, unconvertible: [] }
  const fields = node
  let spans: Map<string, Span> | undefined
  // The digits of a number as sent; the message's text is scanned only when a text field holds one (rarely).
  const digitsOf = (name: string): string | undefined => {
    if (span === undefined) return undefined
    spans ??= memberSpans(text, span)
    return sliceOf(text, spans.get(name))
  }
  const unconvertible: string[] = []
  const message = {} as Record<keyof Dv2000Message, string | number | boolean | null>

  for (const name of textFields) {
    const value = fields[name]
    const converted = value === undefined || value === null ? null : toText(value, typeof value === 'number' ? digitsOf(name) : undefined)
    if (converted === undefined) unconvertible.push(name)
    message[name] = converted ?? null
  }
  for (const name of intFields) {
    const value = fields[name]
    const converted = value === undefined || value === null || value === '' ? null : toInt32(value)
    if (converted === undefined) unconvertible.push(name)
    message[name] = converted ?? null
  }
  for (const name of booleanFields) {
    const value = fields[name]
    const converted = value === undefined || value === null || value === '' ? null : toBoolean(value)
    if (converted === undefined) unconvertible.push(name)
    message[name] = converted ?? null
  }
  return { message: message as unknown as Dv2000Message, unconvertible }
}
