// Wires the bridge from a validated config: schemas, registry ids, Kafka, spool, batching, pipeline, HTTP. Never listens.
import { join } from 'node:path'
import type { FastifyInstance } from 'fastify'
import { createSchemaIds, type SchemaIds } from './avro/registry.js'
import { readRegistryTls } from './avro/registry-http.js'
import { loadSchemaFiles } from './avro/schemas.js'
import type { BridgeConfig } from './config/schema.js'
import { waitAtMost } from './deadline.js'
import { createBatcher, type Batcher } from './delivery/batcher.js'
import type { OutboundRecord } from './delivery/types.js'
import { createDeliverer, type Deliverer } from './delivery/deliverer.js'
import { createDrainer, type Drainer, type Failure } from './delivery/drainer.js'
import { createTopicHolds, holdReasonOf, type TopicHolds } from './delivery/holds.js'
import { createKafkaEdge, type KafkaEdge } from './delivery/kafka.js'
import { createKafkaWatch } from './delivery/kafka-watch.js'
import { createLanes, type Lanes } from './delivery/lanes.js'
import { createPreparation } from './delivery/preparation.js'
import { createSchemaTexts } from './delivery/spool/schema-texts.js'
import { setAside } from './delivery/spool/set-aside.js'
import { createSpool, type Spool } from './delivery/spool/spool.js'
import { largestFrameBytes, MAX_FRAME_PAYLOAD } from './delivery/spool/frame.js'
import { buildHttp } from './http/server.js'
import { BridgeError, ErrorCodes, isBridgeError } from './errors.js'
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
  /** One spool per held topic, beside the main one. */
  lanes: Lanes
  holds: TopicHolds
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
  /**
   * Stops accepting, finishes in-flight requests, replays the spool while Kafka answers (up to shutdownGraceMs),
   * flushes, closes the spool and Kafka. Resolves with the entries left in the spool (held topics' included).
   */
  close(): Promise<{ left: number }>
}

const PREPARE_RETRY_MS = 2_000
const FLUSH_LIMIT_MS = 5_000
const DRAIN_CHECK_MS = 25

/**
 * Kafka's final refusals (a record over a topic's size limit) are set aside so the rest flows; what an operator
 * must fix (an ACL, a missing topic, an incompatible subject) holds its topic; anything else is an outage.
 */
function classifyReplayFailure(error: unknown): Failure {
  if (!isBridgeError(error)) return { kind: 'retry' }
  if (holdReasonOf(error) !== undefined) return { kind: 'blocked' }
  return error.code === ErrorCodes.KAFKA_REJECTED || error.code === ErrorCodes.SPOOL_FAILED ? { kind: 'final' } : { kind: 'retry' }
}

/** A body the spool could not hold whole would be answered 202 and never read back: refused at start-up. */
function checkSpoolHolds(config: BridgeConfig): void {
  const largest = largestFrameBytes(config.http.bodyLimitBytes, config.http.maxRecordsPerRequest)
  if (largest > MAX_FRAME_PAYLOAD) {
    throw new BridgeError(
      ErrorCodes.CONFIG_INVALID,
      `config is invalid:\n  - http.bodyLimitBytes (${config.http.bodyLimitBytes}) with http.maxRecordsPerRequest (${config.http.maxRecordsPerRequest}): a request could need a spool entry of ${largest} bytes, over the ${MAX_FRAME_PAYLOAD} one entry can hold; lower them`,
    )
  }
}

export function buildApp(config: BridgeConfig, deps: AppDeps): App {
  const { logger } = deps
  checkSpoolHolds(config)
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
  // The lanes are made below; the main spool counts their bytes under the same maxBytes.
  let lanes: Lanes | undefined
  const spool = createSpool({ dir: spoolDir, maxBytes: config.spool.maxBytes, logger, usedElsewhere: () => lanes?.usedBytes ?? 0 })
  const schemaTexts = createSchemaTexts(spoolDir, [...schemas.values()])
  // Every produce call's outcome, and a metadata probe when the bridge is idle: while spooling, the drainer's
  // attempts say whether Kafka is back.
  const kafkaWatch = createKafkaWatch({
    probe: () => kafka.probe(),
    intervalMs: config.kafka.probeIntervalMs,
    onChange: (up) => metrics.kafkaUp.set(up ? 1 : 0),
  })
  metrics.kafkaUp.set(0)
  const observeBatch = (records: readonly OutboundRecord[], seconds: number, error?: unknown): void => {
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
  }
  const batcher = createBatcher({
    send: (records) => kafka.send(records),
    lingerMs: config.kafka.lingerMs,
    maxBatchRecords: config.kafka.maxBatchRecords,
    // Half the answer's deadline: a leader that moved (or a topic just created, not yet in every broker's metadata)
    // costs a resend, not a 202; what still fails then goes to the spool in time to answer 202 before ackTimeoutMs.
    retryWindowMs: config.kafka.ackTimeoutMs / 2,
    retriable: (error) => isBridgeError(error) && (error.retriable || error.code === ErrorCodes.KAFKA_TOPIC_MISSING),
    onBatch: observeBatch,
  })
  // Held lanes replay through a batcher of their own: a held topic's refused calls never make a direct request wait.
  const laneBatcher = createBatcher({ send: (records) => kafka.send(records), lingerMs: 0, maxBatchRecords: config.kafka.maxBatchRecords, onBatch: observeBatch })
  const holds = createTopicHolds({
    logger,
    onChange(topic, hold) {
      metrics.topicHeld.remove({ topic })
      if (hold !== undefined) metrics.topicHeld.set({ topic, reason: hold.reason }, 1)
      else lanes?.kick(topic)
    },
  })
  // The drainer and the deliverer refer to each other through these callbacks only.
  let drainer: Drainer | undefined
  const deliverer = createDeliverer({
    batcher,
    spool,
    schemaIds,
    schemaTexts,
    ackTimeoutMs: config.kafka.ackTimeoutMs,
    logger,
    kafkaAnswers: () => kafkaWatch.up,
    onKafkaUnanswered: () => kafkaWatch.observe(false),
    topicWaits: (topic) => lanes!.wants(topic),
    onSpooled: () => drainer?.kick(),
    onSpoolWriteFailed: (error) => metrics.spoolWriteFailures.inc({ reason: error.code === ErrorCodes.SPOOL_FULL ? 'full' : 'io' }),
  })
  const replayed = (records: number): void => {
    metrics.replayed.inc(records)
    metrics.replays.inc({ kind: 'spool' }, records)
  }
  const keepRefused = (entries: Parameters<typeof setAside>[1], error: unknown) => setAside(spoolDir, entries, error)
  lanes = createLanes({
    dir: spoolDir,
    maxBytes: config.spool.maxBytes,
    mainUsedBytes: () => spool.usedBytes,
    holds,
    send: (entries) => deliverer.sendSpooled(entries, laneBatcher),
    setAside: keepRefused,
    classify: classifyReplayFailure,
    onReplayed: replayed,
    logger,
    maxBatchRecords: config.kafka.maxBatchRecords,
  })
  const heldLanes = lanes
  /** A produce refused as UNKNOWN_TOPIC while the topic is listed is a broker catching up, not a missing topic. */
  async function holdUnlessListed(topic: string, error: unknown): Promise<boolean> {
    if (holdReasonOf(error) === 'topic_missing' && (await kafka.topicExists(topic).catch(() => false))) return false
    return holds.hold(topic, error)
  }
  drainer = createDrainer({
    spool,
    send: (entries) => deliverer.sendSpooled(entries),
    setAside: keepRefused,
    classify: classifyReplayFailure,
    divert: { wants: (topic) => heldLanes.wants(topic), hold: holdUnlessListed, move: (topic, entries) => heldLanes.append(topic, entries) },
    onReplayed: replayed,
    logger,
    maxBatchRecords: config.kafka.maxBatchRecords,
  })
  const pipeline = createPipeline({ config, schemas, sink: deliverer, logger, metrics, sources })
  metrics.observeSpool(() => ({ entries: spool.entries, bytes: spool.bytes, held: heldLanes.waiting() }))

  let opened = false
  const preparation = createPreparation({
    kafka,
    schemaIds,
    holds,
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
    spool,
    maxBytes: config.spool.maxBytes,
    kafka,
    kafkaUp: () => kafkaWatch.up,
    held: () => holds.list(),
    waiting: () => heldLanes.waiting(),
    spoolWriteError: () => deliverer.spoolWriteError,
    refusedSubjects: () => schemaIds.refused,
  })

  const http = buildHttp({ config, logger, metrics, pipeline, readiness, senderTypes: sources.types })

  /**
   * Replays while something Kafka can take waits, until the grace period ends or a replay attempt made during the
   * stop fails (Kafka does not answer): what is left then stays in the spool for the next start.
   */
  async function drainWhileKafkaAnswers(graceMs: number): Promise<void> {
    const until = performance.now() + graceMs
    const deliverable = (): number => spool.entries + heldLanes.deliverable
    if (deliverable() === 0 || graceMs === 0) return
    logger.info({ entries: deliverable(), graceMs }, 'replaying the spool to Kafka before stopping')
    const main = drainer!
    const before = main.attempts
    while (deliverable() > 0 && performance.now() < until && !(main.failing && main.attempts > before)) {
      // Cuts a backoff short: the stop does not wait for the next scheduled attempt.
      main.kick()
      heldLanes.kickFlowing()
      await new Promise((resolve) => setTimeout(resolve, DRAIN_CHECK_MS))
    }
  }

  return {
    http,
    pipeline,
    metrics,
    kafka,
    batcher,
    spool,
    lanes: heldLanes,
    holds,
    deliverer,
    drainer,
    async open() {
      if (opened) return
      await spool.open()
      try {
        await heldLanes.open()
      } catch (error) {
        await spool.close()
        throw error
      }
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
      await http.close()
      await drainWhileKafkaAnswers(config.shutdownGraceMs)
      kafkaWatch.stop()
      await Promise.all([drainer?.stop(2_000), heldLanes.stop(2_000)])
      if (!(await waitAtMost(Promise.all([batcher.flush(), laneBatcher.flush()]), FLUSH_LIMIT_MS))) logger.warn({ limitMs: FLUSH_LIMIT_MS }, 'Kafka did not take the last records in time; those acknowledged as spooled stay in the spool')
      const left = spool.entries + heldLanes.waiting().reduce((n, lane) => n + lane.entries, 0)
      await spool.close()
      await heldLanes.close()
      await kafka.close()
      return { left }
    },
  }
}
