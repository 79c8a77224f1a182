// Wires the bridge from a validated config: schemas, registry ids, Kafka, spool, batching, pipeline, HTTP. Never listens.
import { join } from 'node:path'
import type { FastifyInstance } from 'fastify'
import { createSchemaIds, type SchemaIds } from './avro/registry.js'
import { readRegistryTls } from './avro/registry-http.js'
import { loadSchemaFiles } from './avro/schemas.js'
import type { BridgeConfig } from './config/schema.js'
import { waitAtMost } from './deadline.js'
import { createBatcher, type Batcher } from './delivery/batcher.js'
import { createDeliverer, type Deliverer } from './delivery/deliverer.js'
import { createDrainer, type Drainer, type Failure } from './delivery/drainer.js'
import { createKafkaEdge, type KafkaEdge } from './delivery/kafka.js'
import { createKafkaWatch } from './delivery/kafka-watch.js'
import { createPreparation } from './delivery/preparation.js'
import { createSchemaTexts } from './delivery/spool/schema-texts.js'
import { setAside } from './delivery/spool/set-aside.js'
import { createSpool, type Spool } from './delivery/spool/spool.js'
import { buildHttp } from './http/server.js'
import { ErrorCodes, isBridgeError } from './errors.js'
import type { Logger } from './observability/logger.js'
import { createMetrics, type Metrics } from './observability/metrics.js'
import { createPipeline, type Pipeline } from './pipeline.js'
import { createReadiness } from './readiness.js'
import { builtInSources, type SourceRegistry } from './sources/index.js'

export interface AppDeps {
  logger: Logger
  metrics?: Metrics
  kafka?: KafkaEdge
  schemaIds?: SchemaIds
  /** The senders (default: the built-in ones); a plug-in sender comes in through a registry of its own. */
  sources?: SourceRegistry
}

export interface App {
  http: FastifyInstance
  pipeline: Pipeline
  metrics: Metrics
  kafka: KafkaEdge
  batcher: Batcher
  spool: Spool
  deliverer: Deliverer
  drainer: Drainer
  /** Takes the spool folder's lock and recovers what a previous run left: requests can be stored from here on. */
  open(): Promise<void>
  /**
   * Opens the spool if not yet open, then reaches Kafka: connects, creates missing topics, registers schemas,
   * replays the spool. Resolves once the spool is open; Kafka is retried in the background until it answers,
   * while events are accepted into the spool.
   */
  start(): Promise<void>
  /** Resolves when Kafka is prepared (for tests and start-up logs). */
  kafkaPrepared(): Promise<void>
  /** Stops accepting, finishes in-flight requests, flushes what it can, closes the spool and Kafka. */
  close(): Promise<void>
}

const PREPARE_RETRY_MS = 2_000
const FLUSH_LIMIT_MS = 5_000

/**
 * Kafka's final refusals (a record over a topic's size limit) are set aside so the rest flows; what an operator
 * must fix (an ACL, an incompatible subject) holds the spool; anything else is an outage.
 */
function classifyReplayFailure(error: unknown): Failure {
  if (!isBridgeError(error)) return { kind: 'retry' }
  switch (error.code) {
    case ErrorCodes.KAFKA_REJECTED:
    case ErrorCodes.SPOOL_FAILED:
      return { kind: 'final' }
    case ErrorCodes.KAFKA_UNAUTHORIZED:
      return { kind: 'blocked', reason: 'kafka_authorization' }
    case ErrorCodes.REGISTRY_REJECTED:
      return { kind: 'blocked', reason: 'registry_refused' }
    default:
      return { kind: 'retry' }
  }
}

export function buildApp(config: BridgeConfig, deps: AppDeps): App {
  const { logger } = deps
  const metrics = deps.metrics ?? createMetrics()
  const sources = deps.sources ?? builtInSources
  const schemas = loadSchemaFiles(sources.schemaFiles)
  const spoolDir = config.spool.dir
  const schemaIds =
    deps.schemaIds ??
    createSchemaIds({
      ...config.schemaRegistry,
      tls: readRegistryTls(config.schemaRegistry),
      cacheFile: join(spoolDir, 'schema-ids.json'),
      onCacheError: (error) => logger.warn({ err: error }, 'could not save schema ids beside the spool'),
      onIdChanged: (subject, cached, actual) =>
        logger.warn({ subject, cached, actual, registry: config.schemaRegistry.url }, 'the registry holds another id for this schema than the one cached: using its id'),
      onRefused: (subject, reason) => {
        metrics.schemaRefused.set({ subject }, reason === undefined ? 0 : 1)
        if (reason === undefined) logger.info({ subject }, 'the schema registry accepts the schema again')
        else logger.error({ subject, reason }, 'the schema registry refuses the schema for this subject: events are kept in the spool; run `hotel-kafka-bridge schemas check` to see why')
      },
    })
  const kafka = deps.kafka ?? createKafkaEdge(config, logger)
  const spool = createSpool({ dir: spoolDir, maxBytes: config.spool.maxBytes, logger })
  const schemaTexts = createSchemaTexts(spoolDir, [...schemas.values()])
  // Every produce call's outcome, and a metadata probe when the bridge is idle: while spooling, the drainer's
  // attempts say whether Kafka is back.
  const kafkaWatch = createKafkaWatch({
    probe: () => kafka.probe(),
    intervalMs: config.kafka.probeIntervalMs,
    onChange: (up) => metrics.kafkaUp.set(up ? 1 : 0),
  })
  metrics.kafkaUp.set(0)
  const batcher = createBatcher({
    send: (records) => kafka.send(records),
    lingerMs: config.kafka.lingerMs,
    maxBatchRecords: config.kafka.maxBatchRecords,
    // Half the answer's deadline: a leader that moved (or a topic just created) costs a resend, not a 202; what
    // still fails then goes to the spool in time to answer 202 before ackTimeoutMs.
    retryWindowMs: config.kafka.ackTimeoutMs / 2,
    retriable: (error) => isBridgeError(error) && error.retriable,
    onBatch(records, seconds, error) {
      metrics.batches.inc({ result: error === undefined ? 'ok' : 'error' })
      metrics.batchRecords.observe(records.length)
      metrics.batchSeconds.observe(seconds)
      // A refusal is an answer too: Kafka is up, it just will not take these records.
      kafkaWatch.observe(error === undefined || !isBridgeError(error) || !error.retriable)
      if (error !== undefined) {
        logger.debug({ err: error, records: records.length }, 'produce call failed')
        return
      }
      if (records.length === 1) return void metrics.records.inc({ topic: records[0]!.topic })
      const perTopic = new Map<string, number>()
      for (const r of records) perTopic.set(r.topic, (perTopic.get(r.topic) ?? 0) + 1)
      for (const [topic, count] of perTopic) metrics.records.inc({ topic }, count)
    },
  })
  // The drainer and the deliverer refer to each other through these two callbacks only.
  let drainer: Drainer | undefined
  const deliverer = createDeliverer({
    batcher,
    spool,
    schemaIds,
    schemaTexts,
    ackTimeoutMs: config.kafka.ackTimeoutMs,
    logger,
    onSpooled: () => drainer?.kick(),
  })
  drainer = createDrainer({
    spool,
    send: (entries) => deliverer.sendSpooled(entries),
    setAside: (entries, error) => setAside(spoolDir, entries, error),
    onEmpty: () => deliverer.resume(),
    classify: classifyReplayFailure,
    onBlocked: (blocked) => {
      metrics.spoolBlocked.reset()
      if (blocked !== undefined) metrics.spoolBlocked.set({ reason: blocked.reason }, 1)
    },
    onReplayed: (records) => {
      metrics.replayed.inc(records)
      metrics.replays.inc({ kind: 'spool' }, records)
    },
    logger,
    maxBatchRecords: config.kafka.maxBatchRecords,
  })
  const pipeline = createPipeline({ config, schemas, sink: deliverer, logger, metrics, sources })
  metrics.observeSpool(() => ({ entries: spool.entries, bytes: spool.bytes }))

  let opened = false
  const preparation = createPreparation({
    kafka,
    schemaIds,
    planned: () => pipeline.plannedTopics().map(({ topic, schema }) => ({ topic, schemaText: schemas.get(schema)!.text })),
    partitions: config.topics.partitions,
    retryMs: PREPARE_RETRY_MS,
    logger,
    onReachable: () => {
      kafkaWatch.observe(true)
      drainer?.kick()
    },
    spooled: () => spool.entries,
  })

  const readiness = createReadiness({
    mode: () => deliverer.mode,
    spool,
    maxBytes: config.spool.maxBytes,
    kafka,
    kafkaUp: () => kafkaWatch.up,
    blocked: () => drainer?.blocked,
    refusedSubjects: () => schemaIds.refused,
  })

  const http = buildHttp({ config, logger, metrics, pipeline, readiness, senderTypes: sources.types })

  return {
    http,
    pipeline,
    metrics,
    kafka,
    batcher,
    spool,
    deliverer,
    drainer,
    async open() {
      if (opened) return
      await spool.open()
      opened = true
    },
    async start() {
      await this.open()
      if (spool.entries > 0) drainer?.kick()
      preparation.start()
      kafkaWatch.start()
    },
    kafkaPrepared: () => preparation.prepared,
    async close() {
      preparation.stop()
      kafkaWatch.stop()
      await http.close()
      await drainer?.stop(2_000)
      if (!(await waitAtMost(batcher.flush(), FLUSH_LIMIT_MS))) logger.warn({ limitMs: FLUSH_LIMIT_MS }, 'Kafka did not take the last records in time; those acknowledged as spooled stay in the spool')
      await spool.close()
      await kafka.close()
    },
  }
}
