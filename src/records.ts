// The normalised record every source emits, before Avro encoding and delivery, and where its Avro schema is.
import { fileURLToPath } from 'node:url'

/** The name of an Avro schema: one per kind of record (dv2000_event, servio_change, dead_letter, a plug-in's). */
export type SchemaName = string

/** An Avro schema a record is written with: its name and its .avsc file. */
export interface SchemaFile {
  name: SchemaName
  /** Absolute path of the .avsc file. */
  file: string
}

/** The package's schemas/ folder: src/ and dist/ both sit one level below the package root. */
export const PACKAGE_SCHEMAS_DIR = fileURLToPath(new URL('../schemas/', import.meta.url))

/** A schema shipped in the package's schemas/ folder. */
export function packageSchema(name: SchemaName): SchemaFile {
  return { name, file: `${PACKAGE_SCHEMAS_DIR}${name}.avsc` }
}

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
