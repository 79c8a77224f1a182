// Every sender the bridge knows, by the `type` of a configured source.
import type { SourceConfig } from '../config/schema.js'
import { dv2000Source } from './dv2000/index.js'
import { servioSource } from './servio/index.js'
import type { SourceComponent } from './source.js'

export type { IngestContext, IngestResult, SourceComponent } from './source.js'

const components: { [T in SourceConfig['type']]?: SourceComponent<Extract<SourceConfig, { type: T }>> } = {
  dv2000: dv2000Source,
  servio: servioSource,
}

export function componentFor<S extends SourceConfig>(source: S): SourceComponent<S> | undefined {
  return components[source.type] as SourceComponent<S> | undefined
}
