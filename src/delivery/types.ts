// Records on their way to Kafka: prepared (Avro body, schema by hash) and outbound (wire-format value).

export interface SchemaRef {
  /** The schema text, as registered. */
  text: string
  /** SHA-256 of `text`, hex. */
  hash: string
}

/** Encoded to Avro but without the registry id: what the spool stores, and what delivery completes. */
export interface PreparedRecord {
  topic: string
  key: string
  headers: Record<string, string>
  schema: SchemaRef
  /** Avro binary without the 5-byte wire-format header. */
  body: Buffer
}

export interface OutboundRecord {
  topic: string
  key: string
  value: Buffer
  headers: Record<string, string>
}

/** `delivered`: acknowledged by Kafka (acks=all). `spooled`: fsynced to the local spool, replayed later. */
export type Stored = 'delivered' | 'spooled'

export interface RecordSink {
  deliver(records: readonly PreparedRecord[], receivedAt: Date): Promise<Stored>
}
