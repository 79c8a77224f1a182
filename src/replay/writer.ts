// What the replay commands produce with: the bridge's own Kafka edge (acks=all, topics created as serve creates them)
// and schema ids from the registry, for records given as schema text and Avro body.
import { withWireHeader } from '../avro/encoder.js'
import { createSchemaIds } from '../avro/registry.js'
import { readRegistryTls } from '../avro/registry-http.js'
import type { BridgeConfig } from '../config/schema.js'
import { createKafkaEdge } from '../delivery/kafka/index.js'
import type { OutboundRecord } from '../delivery/types.js'
import type { Logger } from '../observability/logger.js'

export interface ReplayRecord {
  topic: string
  key: string
  headers: Record<string, string>
  /** The Avro schema the body was written with, as registered under `<topic>-value`. */
  schemaText: string
  /** Avro binary without the wire-format header. */
  body: Buffer
}

export interface ReplayWriter {
  /** Connects and creates the topics that are missing (when the config lets the bridge create topics). */
  prepare(topics: readonly string[]): Promise<void>
  /** Resolves once Kafka acknowledged every record (acks=all); rejects with the bridge's Kafka or registry error. */
  send(records: readonly ReplayRecord[]): Promise<void>
  close(): Promise<void>
}

export function createReplayWriter(config: BridgeConfig, logger: Logger): ReplayWriter {
  const kafka = createKafkaEdge(config, logger)
  const schemaIds = createSchemaIds({ ...config.schemaRegistry, tls: readRegistryTls(config.schemaRegistry) })
  return {
    async prepare(topics) {
      await kafka.prepare([...topics])
    },
    async send(records) {
      const out: OutboundRecord[] = []
      for (const r of records) {
        const id = await schemaIds.idFor(`${r.topic}-value`, r.schemaText)
        out.push({ topic: r.topic, key: r.key, headers: r.headers, value: withWireHeader(id, r.body) })
      }
      if (out.length > 0) await kafka.send(out)
    },
    close: () => kafka.close(),
  }
}
