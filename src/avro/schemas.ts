// Avro schemas from their .avsc files, read once: their text for the registry, their avsc types for encoding.
import { createHash } from 'node:crypto'
import { readdirSync, readFileSync } from 'node:fs'
import avsc from 'avsc'
import { PACKAGE_SCHEMAS_DIR, type SchemaFile, type SchemaName } from '../records.js'

export const SCHEMAS_DIR = PACKAGE_SCHEMAS_DIR

/** The schemas the package ships: every .avsc file of schemas/ (not a list kept by hand). */
export const SCHEMA_NAMES: readonly SchemaName[] = avscFiles(SCHEMAS_DIR).map((file) => file.slice(0, -'.avsc'.length))

function avscFiles(dir: string): string[] {
  return readdirSync(dir)
    .filter((file) => file.endsWith('.avsc'))
    .sort()
}

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

/** The schemas records are written with, by name (the senders' registry says which: SourceRegistry.schemaFiles). */
export function loadSchemaFiles(files: readonly SchemaFile[]): ReadonlyMap<SchemaName, LoadedSchema> {
  const schemas = new Map<SchemaName, LoadedSchema>()
  for (const { name, file } of files) {
    const json: unknown = JSON.parse(readFileSync(file, 'utf8'))
    const text = JSON.stringify(json)
    schemas.set(name, { name, text, hash: schemaHash(text), type: avsc.Type.forSchema(json as avsc.Schema) })
  }
  return schemas
}

/** Every schema in a folder (the package's schemas/ by default), named by file. */
export function loadSchemas(dir: string = SCHEMAS_DIR): ReadonlyMap<SchemaName, LoadedSchema> {
  const folder = dir.endsWith('/') ? dir : `${dir}/`
  return loadSchemaFiles(avscFiles(folder).map((file) => ({ name: file.slice(0, -'.avsc'.length), file: `${folder}${file}` })))
}
