// The contract between the HTTP ingress and a sender's component: bytes in, records (or a typed refusal) out.
import type { SourceConfig } from '../config/schema.js'
import type { BridgeRecord, SchemaName } from '../records.js'

export interface IngestContext<S extends SourceConfig = SourceConfig> {
  source: S
  receivedAt: Date
  /** A new UUID per call: event ids and batch ids. */
  newId: () => string
}

export type IngestResult =
  | { kind: 'records'; records: BridgeRecord[]; eventId: string; batchId?: string; warnings?: string[] }
  | { kind: 'filtered'; eventId: string; reason: string }

export interface SourceComponent<S extends SourceConfig = SourceConfig> {
  readonly type: S['type']
  readonly schema: SchemaName
  /** Every default topic this source may produce to, for creation and schema registration at start-up. */
  topics(source: S): string[]
  /**
   * Turns one request body into records. Pure: throws BridgeError(BAD_INPUT) with a reason a sender's
   * operator can act on when the body is not what the sender documents.
   */
  ingest(body: Buffer, context: IngestContext<S>): IngestResult
}
