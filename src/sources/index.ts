// The registry of senders: the only list of them. Config, routes, schemas and topics are derived from a registry.
import { SENDER_TYPE, type SourceConfig } from '../config/source-common.js'
import { DEAD_LETTER_SCHEMA } from '../dead-letter.js'
import type { SchemaFile } from '../records.js'
import { dv2000Source } from './dv2000/index.js'
import { servioSource } from './servio/index.js'
import type { SourceComponent } from './source.js'

export type { IngestContext, IngestResult, SourceComponent } from './source.js'

export interface SourceRegistry {
  readonly components: readonly SourceComponent[]
  /** The sender types, in registration order: one route /v1/{type}/{source} each. */
  readonly types: readonly string[]
  componentFor(source: Pick<SourceConfig, 'type'>): SourceComponent | undefined
  /** Every schema a record may be written with: each sender's, and the dead letter's. */
  readonly schemaFiles: readonly SchemaFile[]
}

/** A registry of these senders (the built-in ones, or those and a plug-in's); refuses a type taken twice or badly named. */
export function createSourceRegistry(components: readonly SourceComponent[]): SourceRegistry {
  const list = components
  const byType = new Map<string, SourceComponent>()
  for (const component of list) {
    if (!SENDER_TYPE.test(component.type)) throw new Error(`sender type "${component.type}" must be lower case letters, digits and dashes`)
    if (byType.has(component.type)) throw new Error(`sender type "${component.type}" is registered twice`)
    byType.set(component.type, component)
  }
  const schemaFiles = new Map<string, SchemaFile>([[DEAD_LETTER_SCHEMA.name, DEAD_LETTER_SCHEMA]])
  for (const c of list) schemaFiles.set(c.schema, { name: c.schema, file: c.schemaFile })
  return {
    components: list,
    types: [...byType.keys()],
    componentFor: (source) => byType.get(source.type),
    schemaFiles: [...schemaFiles.values()],
  }
}

/** The senders this bridge ships. A new sender: its folder, its schema file, and one line here. */
export const builtInSources = createSourceRegistry([dv2000Source, servioSource])

export function componentFor(source: Pick<SourceConfig, 'type'>): SourceComponent | undefined {
  return builtInSources.componentFor(source)
}
