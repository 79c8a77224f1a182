// The one interface a sender implements: its type, its config options, its Avro schema, its topics and its pure ingest.
import type { z } from 'zod'
import type { SourceConfig } from '../config/source-common.js'
import type { BridgeRecord, SchemaName } from '../records.js'

export interface IngestContext<S extends SourceConfig = SourceConfig> {
  source: S
  receivedAt: Date
  /** The request's User-Agent as sent (DV2000 sends DuVoice/<version>), if any. */
  userAgent?: string | undefined
  /** A new UUID per call: event ids and batch ids. */
  newId: () => string
  /** Records one request may become (http.maxRecordsPerRequest): over it, throw TOO_MANY_RECORDS before building them. */
  maxRecords?: number
}

export type IngestResult =
  | { kind: 'records'; records: BridgeRecord[]; eventId: string; batchId?: string; warnings?: string[] }
  | { kind: 'filtered'; eventId: string; reason: string }

/**
 * Everything sender-specific, in the sender's own folder; the registry (sources/index.ts) derives the rest
 * from it: the config's sources union and BRIDGE_SOURCES_* keys, the route /v1/{type}/{source}, the schema
 * registered per topic, and the topics created at start-up.
 */
export interface SourceComponent<S extends SourceConfig = SourceConfig> {
  /** Lower case letters, digits and dashes: the route's /v1/{type}/ and the config's `type`. */
  readonly type: S['type']
  /** The sender's own keys of a source (beyond id, secrets, allowCidrs, topics, rateLimit), as a zod shape. */
  readonly options: z.ZodRawShape
  /** The Avro schema its records are written with: its name, and the absolute path of its .avsc file. */
  readonly schema: SchemaName
  readonly schemaFile: string
  /** Every default topic this source may produce to (before overrides and prefix), for creation at start-up. */
  topics(source: S): string[]
  /** What the key of a default topic's records is, for consumers (SPEC §3's key column; the AsyncAPI document). */
  keyOf(defaultTopic: string): string
  /**
   * Turns one request body into records, each with its default topic and its key. Pure: throws
   * BridgeError(BAD_INPUT) with a reason a sender's operator can act on when the body is not what the sender
   * documents; the pipeline then keeps the raw body as a dead letter.
   */
  ingest(body: Buffer, context: IngestContext<S>): IngestResult
  /**
   * What to type into the sender to point it at `url` (the source's address, secret included), in the sender's own
   * words: `sources url` prints it. Without it, the command prints the URL to POST to.
   */
  senderSetup?(source: S, url: string): string
}
