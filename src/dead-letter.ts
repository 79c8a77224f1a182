// The dead letter: the one record every refused body becomes, whatever its sender (SPEC §3), and where it goes.
import { packageSchema, recordHeaders, type BridgeRecord, type SchemaFile } from './records.js'
import type { SourceConfig } from './config/source-common.js'

export const DEAD_LETTER_TOPIC = 'bridge.deadletter'
export const DEAD_LETTER_SCHEMA: SchemaFile = packageSchema('dead_letter')
/** What a dead letter's key is, for consumers. */
export const DEAD_LETTER_KEY = 'The id of the source whose request was refused: one source\'s dead letters share a partition, in order.'

export interface RefusedRequest {
  body: Buffer
  contentType: string | undefined
  remoteAddress: string | undefined
  receivedAt: Date
  /** From dead_letter v2: the parser is given it again when the dead letter is replayed. */
  userAgent?: string | undefined
}

/** The raw body exactly as received, keyed by the source id, with why it was refused. */
export function deadLetterRecord(source: SourceConfig, request: RefusedRequest, eventId: string, reason: string): BridgeRecord {
  return {
    topic: DEAD_LETTER_TOPIC,
    key: source.id,
    schema: DEAD_LETTER_SCHEMA.name,
    headers: recordHeaders(eventId, source.id, request.receivedAt, { sourceType: source.type, type: 'deadletter' }),
    value: {
      event_id: eventId,
      source: source.id,
      source_type: source.type,
      received_at: request.receivedAt.getTime(),
      reason,
      content_type: request.contentType ?? null,
      remote_address: request.remoteAddress ?? null,
      body: request.body,
      user_agent: request.userAgent ?? null,
    },
  }
}
