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

/** The bridge's own headers, and the CloudEvents Kafka protocol binding in binary mode (SPEC §3). */
export interface RecordHeaders {
  event_id: string
  source: string
  /** ISO 8601 UTC. */
  received_at: string
  ce_specversion: '1.0'
  /** The record's event_id: unique per record (a Servio batch's records each have their own). */
  ce_id: string
  /** The path the source posts to, /v1/{type}/{id}: stable for as long as the source keeps its id. */
  ce_source: string
  /** CLOUDEVENTS_TYPE_PREFIX, the sender type, then what happened (DV2000's event name; Servio's entity and action). */
  ce_type: string
  /** RFC 3339: when it happened if the sender says so, else when it was received. */
  ce_time: string
  'content-type': 'application/avro'
}

/** Reverse-DNS, the project's own: the senders' vendors publish no CloudEvents types of theirs. */
export const CLOUDEVENTS_TYPE_PREFIX = 'org.hotel-kafka-bridge'

export interface EventDescription {
  sourceType: string
  /** After the prefix and sender type: `room_update`, `guest.update`, `deadletter`. */
  type: string
  /** When the event happened, as the sender said (epoch ms); absent or null: when it was received. */
  occurredAt?: number | null
}

/** The path a source posts to: its route, its ce_source, what `sources` prints. */
export const sourcePath = (type: string, id: string): string => `/v1/${type}/${id}`

export interface BridgeRecord {
  /** Default topic name, before the source's override and the configured prefix. */
  topic: string
  key: string
  schema: SchemaName
  value: Record<string, unknown>
  headers: RecordHeaders
}

export function recordHeaders(eventId: string, source: string, receivedAt: Date, event: EventDescription): RecordHeaders {
  const receivedIso = receivedAt.toISOString()
  const occurred = event.occurredAt ?? null
  return {
    event_id: eventId,
    source,
    received_at: receivedIso,
    ce_specversion: '1.0',
    ce_id: eventId,
    ce_source: sourcePath(event.sourceType, source),
    ce_type: `${CLOUDEVENTS_TYPE_PREFIX}.${event.sourceType}.${event.type}`,
    ce_time: occurred === null ? receivedIso : new Date(occurred).toISOString(),
    'content-type': 'application/avro',
  }
}
