// `hotel-kafka-bridge tail TOPIC`: prints a topic's records as JSON lines, values decoded through the registry.
import { createRegistryHttp, readRegistryTls } from '../avro/registry-http.js'
import { createWireDecoder } from '../avro/wire-decoder.js'
import type { BridgeConfig } from '../config/schema.js'
import { createKafkaClient, createReader } from '../delivery/kafka/index.js'
import { createLogger } from '../observability/logger.js'

export interface TailOptions {
  topic: string
  fromBeginning: boolean
  max: number | undefined
  timeoutMs: number | undefined
}

function jsonValue(_key: string, value: unknown): unknown {
  if (typeof value === 'object' && value !== null && (value as { type?: string }).type === 'Buffer') {
    return Buffer.from((value as { data: number[] }).data).toString('base64')
  }
  return value
}

export async function tail(config: BridgeConfig, options: TailOptions): Promise<number> {
  const topic = options.topic.startsWith(config.topicPrefix) ? options.topic : config.topicPrefix + options.topic
  // The same connection settings as serve (TLS, SASL; the registry's CA, client certificate and credentials); errors only.
  const kafka = createKafkaClient(config, createLogger('error', process.stderr), '-tail')
  const registry = createWireDecoder(createRegistryHttp({ ...config.schemaRegistry, tls: readRegistryTls(config.schemaRegistry) }))
  let seen = 0
  let finish: () => void = () => undefined
  let fail: (error: unknown) => void = () => undefined
  const finished = new Promise<void>((resolve, reject) => ((finish = resolve), (fail = reject)))
  const { consumer, rethrow } = createReader(kafka, config, 'tail', topic, (error) => fail(error))
  await consumer.connect().catch(rethrow)
  await consumer.subscribe({ topics: [topic], fromBeginning: options.fromBeginning }).catch(rethrow)
  await consumer.run({
    eachMessage: async ({ partition, message }) => {
      if (options.max !== undefined && seen >= options.max) return
      // A record the registry cannot decode (refused, unknown id) ends the command with why, not kafkajs's endless retries.
      const value = message.value === null ? null : await registry.decode(message.value).catch((error: unknown) => fail(error))
      if (value === undefined) return
      const headers = Object.fromEntries(Object.entries(message.headers ?? {}).map(([k, v]) => [k, v?.toString()]))
      const line = { topic, partition, offset: message.offset, key: message.key?.toString() ?? null, headers, value }
      process.stdout.write(`${JSON.stringify(line, jsonValue)}\n`)
      seen++
      if (options.max !== undefined && seen >= options.max) finish()
    },
  })
  const stop = (): void => finish()
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
  let timer: NodeJS.Timeout | undefined
  if (options.timeoutMs !== undefined) timer = setTimeout(stop, options.timeoutMs)
  try {
    await finished
  } finally {
    clearTimeout(timer)
    await consumer.disconnect()
  }
  return options.max !== undefined && seen < options.max ? 1 : 0
}
