// Reads records back with an independent kafkajs consumer, decoding values through the registry's own client.
import { randomUUID } from 'node:crypto'
import { SchemaRegistry } from '@kafkajs/confluent-schema-registry'
import { Kafka, logLevel, type ConfigResourceTypes, type IHeaders } from 'kafkajs'
import { inject } from 'vitest'

export interface ConsumedRecord {
  topic: string
  partition: number
  offset: string
  key: string | null
  /** Decoded Avro value. */
  value: Record<string, unknown>
  rawValue: Buffer
  headers: Record<string, string>
  /** Kafka's record timestamp, epoch ms. */
  timestamp: number
}

function headerStrings(headers: IHeaders | undefined): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [k, v] of Object.entries(headers ?? {})) {
    if (v !== undefined) out[k] = Array.isArray(v) ? String(v[0]) : String(v)
  }
  return out
}

export function registryClient(): SchemaRegistry {
  return new SchemaRegistry({ host: inject('schemaRegistryUrl') })
}

/**
 * Consumes every topic whose name starts with `prefix` from the beginning until `until` says enough
 * (or `timeoutMs` passes), and returns what was read, in per-partition order. `raw` skips decoding.
 */
export async function consume(
  prefix: string,
  until: (records: ConsumedRecord[]) => boolean,
  timeoutMs = 30_000,
  options: { raw?: boolean } = {},
): Promise<ConsumedRecord[]> {
  const kafka = new Kafka({ clientId: 'it-reader', brokers: inject('kafkaBrokers').split(','), logLevel: logLevel.NOTHING })
  const registry = registryClient()
  const consumer = kafka.consumer({ groupId: `it-${randomUUID()}`, sessionTimeout: 10_000, heartbeatInterval: 1_000 })
  const records: ConsumedRecord[] = []
  await consumer.connect()
  try {
    const escaped = prefix.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
    await consumer.subscribe({ topics: [new RegExp(`^${escaped}`)], fromBeginning: true })
    let done: () => void = () => undefined
    const finished = new Promise<void>((resolve) => {
      done = resolve
    })
    await consumer.run({
      eachMessage: async ({ topic, partition, message }) => {
        const rawValue = message.value ?? Buffer.alloc(0)
        records.push({
          topic,
          partition,
          offset: message.offset,
          key: message.key === null ? null : message.key.toString('utf8'),
          // raw: values that are not the bridge's Avro (a test writing bytes through the Kafka edge itself).
          value: options.raw === true ? {} : ((await registry.decode(rawValue)) as Record<string, unknown>),
          rawValue,
          headers: headerStrings(message.headers),
          timestamp: Number(message.timestamp),
        })
        if (until(records)) done()
      },
    })
    let timer: NodeJS.Timeout | undefined
    await Promise.race([finished, new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)))])
    clearTimeout(timer)
    return records
  } finally {
    await consumer.disconnect()
  }
}

/** Creates a topic with its own settings (e.g. a small max.message.bytes), before a bridge that would create it otherwise. */
export async function createTopic(topic: string, config: Record<string, string>, numPartitions = 3): Promise<void> {
  const admin = new Kafka({ clientId: 'it-admin', brokers: inject('kafkaBrokers').split(','), logLevel: logLevel.NOTHING }).admin()
  await admin.connect()
  try {
    await admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions, configEntries: Object.entries(config).map(([name, value]) => ({ name, value })) }] })
  } finally {
    await admin.disconnect()
  }
}

/** Sets a topic's configs (an operator's fix, such as a larger max.message.bytes). */
export async function alterTopic(topic: string, config: Record<string, string>): Promise<void> {
  const admin = new Kafka({ clientId: 'it-admin', brokers: inject('kafkaBrokers').split(','), logLevel: logLevel.NOTHING }).admin()
  await admin.connect()
  try {
    // 2: ConfigResourceTypes.TOPIC (kafkajs does not export the enum to ESM).
    await admin.alterConfigs({ validateOnly: false, resources: [{ type: 2 as ConfigResourceTypes, name: topic, configEntries: Object.entries(config).map(([name, value]) => ({ name, value })) }] })
  } finally {
    await admin.disconnect()
  }
}

/** POST helper over real HTTP. */
export async function post(url: string, body: string | Buffer, headers: Record<string, string> = {}): Promise<{ status: number; json: Record<string, unknown> }> {
  const response = await fetch(url, { method: 'POST', body, headers: { 'content-type': 'application/json', ...headers } })
  const text = await response.text()
  let json: Record<string, unknown> = {}
  try {
    json = JSON.parse(text) as Record<string, unknown>
  } catch {
    json = { text }
  }
  return { status: response.status, json }
}
