// `asyncapi`: the AsyncAPI 3 document of a config's topics, as YAML (or JSON), to stdout or a file.
import { readFileSync, renameSync, writeFileSync } from 'node:fs'
import { stringify } from 'yaml'
import { asyncApiDocument } from '../asyncapi/document.js'
import type { BridgeConfig } from '../config/schema.js'
import { builtInSources, type SourceRegistry } from '../sources/index.js'
import { PACKAGE_VERSION } from '../version.js'

export const ASYNCAPI_HELP = `Usage: hotel-kafka-bridge asyncapi --config FILE [--out FILE] [--json]

Prints the AsyncAPI 3.1 document of the topics the configured sources write (topicPrefix and each source's
topic overrides applied, the dead-letter topic included): per topic its address, the message key, the Avro
schema inline (application/vnd.apache.avro;version=1.9.0), the CloudEvents and bridge headers, Kafka
bindings (partitions, replicas; schema id in the payload, Confluent encoding, subject {topic}-value), the
brokers with the schema registry's URL, and a send (the bridge) and a receive (a consumer) operation.
YAML unless --json; to stdout, or written whole to FILE with --out. Nothing is contacted: the document
comes from the config and the package's schemas. Render it with the AsyncAPI CLI, e.g.
  npx @asyncapi/cli generate fromTemplate asyncapi.yaml @asyncapi/html-template -o site
`

export interface AsyncApiOptions {
  out?: string | undefined
  json: boolean
}

export function asyncApiText(config: BridgeConfig, json: boolean, sources: SourceRegistry = builtInSources): string {
  const avroSchemas = new Map(sources.schemaFiles.map((s) => [s.name, JSON.parse(readFileSync(s.file, 'utf8')) as unknown]))
  const document = asyncApiDocument({ config, sources, avroSchemas, version: PACKAGE_VERSION })
  return json ? `${JSON.stringify(document, null, 2)}\n` : stringify(document, { aliasDuplicateObjects: false, lineWidth: 0 })
}

export function asyncApi(config: BridgeConfig, options: AsyncApiOptions): number {
  const text = asyncApiText(config, options.json)
  if (options.out === undefined) {
    process.stdout.write(text)
    return 0
  }
  // Written whole: a renderer watching the file never reads half a document.
  writeFileSync(`${options.out}.tmp`, text)
  renameSync(`${options.out}.tmp`, options.out)
  return 0
}
