// A request's records as they cross from a worker to the primary: the schema by its hash, the primary holds the texts.
import type { LoadedSchema } from '../avro/schemas.js'
import type { PreparedRecord } from '../delivery/types.js'

export interface WireRecord {
  topic: string
  key: string
  headers: Record<string, string>
  schemaHash: string
  body: Uint8Array
}

export function toWire(record: PreparedRecord): WireRecord {
  return { topic: record.topic, key: record.key, headers: record.headers, schemaHash: record.schema.hash, body: record.body }
}

/** The inverse of toWire; a hash the primary does not know is a worker built from other schema files. */
export function fromWire(schemas: ReadonlyMap<string, LoadedSchema>): (record: WireRecord) => PreparedRecord {
  return (record) => {
    const schema = schemas.get(record.schemaHash)
    if (schema === undefined) throw new Error(`a worker wrote with a schema the primary does not have (${record.schemaHash}): the package changed under a running bridge`)
    const body = Buffer.isBuffer(record.body) ? record.body : Buffer.from(record.body.buffer, record.body.byteOffset, record.body.byteLength)
    return { topic: record.topic, key: record.key, headers: record.headers, schema, body }
  }
}
