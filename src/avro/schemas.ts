// The Avro schemas of schemas/*.avsc, read once: their text for the registry, their avsc types for encoding.
import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import avsc from 'avsc'
import type { SchemaName } from '../records.js'

export const SCHEMA_NAMES: readonly SchemaName[] = ['dv2000_event', 'servio_change', 'dead_letter']

/** src/avro and dist/avro both sit two levels below the package root. */
export const SCHEMAS_DIR = fileURLToPath(new URL('../../schemas/', import.meta.url))

export interface LoadedSchema {
  name: SchemaName
  /** The .avsc text, compacted: what is registered. */
  text: string
  /** SHA-256 of `text`, hex: how spooled records name the schema they were written with. */
  hash: string
  type: avsc.Type
}

export function schemaHash(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex')
}

export function loadSchemas(dir: string = SCHEMAS_DIR): ReadonlyMap<SchemaName, LoadedSchema> {
  const schemas = new Map<SchemaName, LoadedSchema>()
  for (const name of SCHEMA_NAMES) {
    const json: unknown = JSON.parse(readFileSync(`${dir}${name}.avsc`, 'utf8'))
    const text = JSON.stringify(json)
    schemas.set(name, { name, text, hash: schemaHash(text), type: avsc.Type.forSchema(json as avsc.Schema) })
  }
  return schemas
}
