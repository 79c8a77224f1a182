// A record ready for Kafka: final topic, key, encoded value and headers.

export interface OutboundRecord {
  topic: string
  key: string
  value: Buffer
  headers: Record<string, string>
}

/** Where records go: resolves once all of them are acknowledged by Kafka (acks=all). */
export interface RecordSink {
  deliver(records: readonly OutboundRecord[]): Promise<void>
}
