// The normalised record every source emits, before Avro encoding and delivery.

/** One Avro schema per kind of record; its file is schemas/<name>.avsc. */
export type SchemaName = 'dv2000_event' | 'servio_change' | 'dead_letter'

export interface RecordHeaders {
  event_id: string
  source: string
  /** ISO 8601 UTC. */
  received_at: string
}

export interface BridgeRecord {
  /** Default topic name, before the source's override and the configured prefix. */
  topic: string
  key: string
  schema: SchemaName
  value: Record<string, unknown>
  headers: RecordHeaders
}

export function recordHeaders(eventId: string, source: string, receivedAt: Date): RecordHeaders {
  return { event_id: eventId, source, received_at: receivedAt.toISOString() }
}
