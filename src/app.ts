// Wires the bridge from a validated config: schemas, registry ids, Kafka, batching, pipeline, HTTP. Never listens.
import type { FastifyInstance } from 'fastify'
import { createSchemaIds, type SchemaIds } from './avro/registry.js'
import { loadSchemas } from './avro/schemas.js'
import type { BridgeConfig } from './config/schema.js'
import { createBatcher, type Batcher } from './delivery/batcher.js'
import { createDeliverer } from './delivery/deliverer.js'
import { createKafkaEdge, type KafkaEdge } from './delivery/kafka.js'
import { buildHttp } from './http/server.js'
import type { Readiness } from './http/health-routes.js'
import type { Logger } from './observability/logger.js'
import { createMetrics, type Metrics } from './observability/metrics.js'
import { createPipeline, type Pipeline } from './pipeline.js'

export interface AppDeps {
  logger: Logger
  metrics?: Metrics
  kafka?: KafkaEdge
  schemaIds?: SchemaIds
}

export interface App {
  http: FastifyInstance
  pipeline: Pipeline
  metrics: Metrics
  kafka: KafkaEdge
  batcher: Batcher
  /** Connects to Kafka, creates missing topics, registers schemas. Resolves once all three are done. */
  start(): Promise<void>
  /** Stops accepting, finishes in-flight requests, flushes what is queued, closes Kafka. */
  close(): Promise<void>
}

export function buildApp(config: BridgeConfig, deps: AppDeps): App {
  const { logger } = deps
  const metrics = deps.metrics ?? createMetrics()
  const schemas = loadSchemas()
  const schemaIds = deps.schemaIds ?? createSchemaIds(config.schemaRegistry)
  const kafka = deps.kafka ?? createKafkaEdge(config, logger)
  const batcher = createBatcher({
    send: (records) => kafka.send(records),
    lingerMs: config.kafka.lingerMs,
    maxBatchRecords: config.kafka.maxBatchRecords,
    onBatch(records, seconds, error) {
      metrics.batches.inc({ result: error === undefined ? 'ok' : 'error' })
      metrics.batchRecords.observe(records)
      metrics.batchSeconds.observe(seconds)
      metrics.kafkaUp.set(error === undefined ? 1 : 0)
      if (error !== undefined) logger.error({ err: error, records }, 'produce call failed')
    },
  })
  const sink = createDeliverer({ batcher, ackTimeoutMs: config.kafka.ackTimeoutMs })
  const pipeline = createPipeline({ config, schemas, schemaIds, sink, logger, metrics })

  async function readiness(): Promise<Readiness> {
    const reachable = kafka.state === 'connected' || (await kafka.probe())
    return reachable ? { ready: true, delivering: 'kafka', kafka: 'connected' } : { ready: false, delivering: 'none', kafka: kafka.state }
  }

  const http = buildHttp({ config, logger, metrics, pipeline, readiness })

  return {
    http,
    pipeline,
    metrics,
    kafka,
    batcher,
    async start() {
      await kafka.connect()
      const planned = pipeline.plannedTopics()
      if (config.topics.create) {
        const created = await kafka.ensureTopics(planned.map((p) => p.topic))
        if (created.length > 0) logger.info({ topics: created, partitions: config.topics.partitions }, 'created topics')
      }
      for (const { topic, schema } of planned) {
        const id = await schemaIds.idFor(`${topic}-value`, schemas.get(schema)!.text)
        logger.debug({ subject: `${topic}-value`, id }, 'schema registered')
      }
      logger.info({ topics: planned.length }, 'topics and schemas ready')
    },
    async close() {
      await http.close()
      await batcher.flush()
      await kafka.close()
    },
  }
}
