// Wires the bridge from a validated config: its core (registry ids, Kafka, delivery, readiness) and its front (HTTP and
// the pipeline) in front of the core's sink; one process holds both, or a cluster splits them (cluster/). Never listens.
import type { Server as HttpsServer } from 'node:https'
import type { FastifyInstance } from 'fastify'
import type { LoadedSchema } from './avro/schemas.js'
import { createSchemaIds, type SchemaIds } from './avro/registry.js'
import { readRegistryTls } from './avro/registry-http.js'
import { loadSchemaFiles } from './avro/schemas.js'
import type { BridgeConfig } from './config/schema.js'
import { waitAtMost } from './deadline.js'
import { createDelivery, schemaIdsCacheFile } from './delivery/delivery.js'
import type { RecordSink } from './delivery/types.js'
import type { TopicHolds } from './delivery/holds.js'
import { createKafkaEdge, type KafkaEdge } from './delivery/kafka/index.js'
import { createPreparation } from './delivery/preparation.js'
import { largestFrameBytes, MAX_FRAME_PAYLOAD } from './delivery/spool/frame.js'
import { buildHttp, httpsCertificate } from './http/server.js'
import { createSourceGuard } from './http/source-guard.js'
import { BridgeError, ErrorCodes } from './errors.js'
import type { Logger } from './observability/logger.js'
import { createMetrics, type Metrics } from './observability/metrics.js'
import { createSilenceWatch } from './observability/silence.js'
import type { SchemaName } from './records.js'
import { checkTopicOverrides, createPipeline, plannedTopics, type Pipeline } from './pipeline.js'
import { createReadiness, type Readiness } from './readiness.js'
import { builtInSources, type SourceRegistry } from './sources/index.js'

export interface AppDeps {
  logger: Logger
  metrics?: Metrics
  kafka?: KafkaEdge
  schemaIds?: SchemaIds
  /** The senders (default: the built-in ones); a plug-in sender comes in through a registry of its own. */
  sources?: SourceRegistry
}

/** Everything behind the HTTP edge: what a cluster's primary runs for all its workers. */
export interface Core {
  metrics: Metrics
  kafka: KafkaEdge
  /** Topics held for an operator. */
  holds: TopicHolds
  /** Where the pipeline hands a request's records: Kafka, or the spool. */
  sink: RecordSink
  readiness: () => Promise<Readiness>
  /** Told of every admitted request's source (the silent-source watch). */
  heard: (sourceId: string) => void
  /** Takes the spool folder's lock and recovers what a previous run left: requests can be stored from here on. */
  open(): Promise<void>
  /** Opens the spool if not yet open, then reaches Kafka in the background (connects, creates topics, registers schemas, replays). */
  start(): Promise<void>
  kafkaPrepared(): Promise<void>
  /**
   * The core's part of a reload, before the front takes the new sources: topic overrides checked (rejects, changing
   * nothing), then the new sources' topics prepared while Kafka answers.
   */
  prepareReload(next: BridgeConfig): Promise<void>
  /** After the front took the reload: the silent-source watch follows the new sources, the log level is set. */
  reloaded(next: BridgeConfig): void
  /** Replays the spool while Kafka answers until `until` (performance.now()), flushes, closes the spool and Kafka. */
  close(until: number): Promise<{ left: number }>
}

/** HTTP and the pipeline: what each of a cluster's workers runs. */
export interface Front {
  http: FastifyInstance
  pipeline: Pipeline
  /** Reads a reload's HTTPS certificate, throwing (nothing changed) when it is wrong; then `apply` takes the reload. */
  checkReload(next: BridgeConfig): { apply(): void }
}

export interface App extends Omit<Core, 'sink' | 'readiness' | 'heard' | 'prepareReload' | 'reloaded' | 'close'> {
  http: FastifyInstance
  pipeline: Pipeline
  /**
   * Applies a reloaded config (validated, no restart-only change): the new sources' topics checked first while Kafka
   * answers (created, subjects registered), then the sources swapped for the next request, the HTTPS certificate
   * re-read, the log level set. Rejects, changing nothing, when a topic override or the certificate is wrong.
   */
  reconfigure(next: BridgeConfig): Promise<void>
  /**
   * Stops accepting, finishes in-flight requests, replays the spool while Kafka answers (up to shutdownGraceMs),
   * flushes, closes the spool and Kafka. Resolves with the entries left in the spool (held topics' included).
   */
  close(): Promise<{ left: number }>
}

const PREPARE_RETRY_MS = 2_000
const KAFKA_CLOSE_MS = 1_000
/** A reload waits this long at most for its new topics (created, subjects registered) before the new sources take requests. */
const RELOAD_PREPARE_MS = 30_000

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

export function buildCore(config: BridgeConfig, deps: AppDeps & { schemas: ReadonlyMap<SchemaName, LoadedSchema> }): Core {
  const { logger, schemas } = deps
  checkSpoolHolds(config)
  const metrics = deps.metrics ?? createMetrics()
  const sources = deps.sources ?? builtInSources
  const schemaIds =
    deps.schemaIds ??
    createSchemaIds({
      ...config.schemaRegistry,
      tls: readRegistryTls(config.schemaRegistry),
      cacheFile: schemaIdsCacheFile(config),
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
  const delivery = createDelivery({ config, kafka, schemaIds, schemas: [...schemas.values()], metrics, logger })

  let opened = false
  /** The running config: what a reload replaced last. */
  let live = config
  const preparation = createPreparation({
    kafka,
    schemaIds,
    holds: delivery.holds,
    planned: () => plannedTopics(live, sources).map(({ topic, schema }) => ({ topic, schemaText: schemas.get(schema)!.text })),
    partitions: config.topics.partitions,
    retryMs: PREPARE_RETRY_MS,
    logger,
    onReachable: () => delivery.kafkaReached(),
    spooled: () => delivery.spool.entries,
  })

  const readiness = createReadiness({
    spool: delivery.spool,
    maxBytes: config.spool.maxBytes,
    kafka,
    kafkaUp: () => delivery.kafkaUp(),
    producing: () => delivery.producing(),
    held: () => delivery.holds.list(),
    waiting: () => delivery.waiting(),
    spoolWriteError: () => delivery.spoolWriteError,
    refusedSubjects: () => schemaIds.refused,
  })
  const silence = createSilenceWatch({ sources: () => live.sources, logger, metrics })

  return {
    metrics,
    kafka,
    holds: delivery.holds,
    sink: delivery.sink,
    readiness,
    heard: (id) => silence.heard(id),
    async open() {
      if (opened) return
      await delivery.open()
      opened = true
    },
    async start() {
      await this.open()
      delivery.start()
      preparation.start()
    },
    kafkaPrepared: () => preparation.prepared,
    async prepareReload(next) {
      checkTopicOverrides(next.sources, sources)
      live = next
      // A new source's first events find their topics and subjects ready (200). While Kafka does not answer, the
      // sources are swapped after RELOAD_PREPARE_MS anyway: their events are kept (202) and replayed, as at a cold start.
      await waitAtMost(preparation.prepareAdded(), RELOAD_PREPARE_MS)
    },
    reloaded(next) {
      silence.check()
      logger.level = next.log.level
    },
    async close(until) {
      preparation.stop()
      silence.stop()
      const closed = await delivery.close(until - performance.now())
      // A stalled broker never answers a disconnect: what matters (the spool) is closed already.
      await waitAtMost(kafka.close(), KAFKA_CLOSE_MS)
      return closed
    },
  }
}

export interface FrontDeps {
  logger: Logger
  metrics: Metrics
  schemas: ReadonlyMap<SchemaName, LoadedSchema>
  sources?: SourceRegistry
  sink: RecordSink
  readiness: () => Promise<Readiness>
  heard: (sourceId: string) => void
  /** The /metrics text (default: this process's registry). */
  metricsText?: () => Promise<string>
}

export function buildFront(config: BridgeConfig, deps: FrontDeps): Front {
  const { logger, metrics } = deps
  const sources = deps.sources ?? builtInSources
  const pipeline = createPipeline({ config, schemas: deps.schemas, sink: deps.sink, logger, metrics, sources })
  const guard = createSourceGuard(config.sources)
  const http = buildHttp({ config, logger, metrics, pipeline, readiness: deps.readiness, metricsText: deps.metricsText, senderTypes: sources.types, guard, heard: deps.heard })
  return {
    http,
    pipeline,
    checkReload(next) {
      const certificate = next.http.tls === undefined ? undefined : httpsCertificate(next.http.tls)
      return {
        apply() {
          guard.replace(next.sources)
          if (certificate !== undefined) (http.server as HttpsServer).setSecureContext(certificate)
          logger.level = next.log.level
        },
      }
    },
  }
}

export function buildApp(config: BridgeConfig, deps: AppDeps): App {
  const sources = deps.sources ?? builtInSources
  const schemas = loadSchemaFiles(sources.schemaFiles)
  const core = buildCore(config, { ...deps, schemas })
  const front = buildFront(config, { logger: deps.logger, metrics: core.metrics, schemas, sources, sink: core.sink, readiness: core.readiness, heard: core.heard })
  const { http } = front

  return {
    http,
    pipeline: front.pipeline,
    metrics: core.metrics,
    kafka: core.kafka,
    holds: core.holds,
    open: () => core.open(),
    start: () => core.start(),
    kafkaPrepared: () => core.kafkaPrepared(),
    async reconfigure(next) {
      const reload = front.checkReload(next)
      await core.prepareReload(next)
      reload.apply()
      core.reloaded(next)
    },
    async close() {
      // The whole stop fits in shutdownGraceMs (a container's stop timeout is a hard deadline).
      const until = performance.now() + config.shutdownGraceMs
      if (!(await waitAtMost(http.close(), Math.max(0, until - performance.now())))) {
        deps.logger.warn({ graceMs: config.shutdownGraceMs }, 'requests still in flight when the grace period ended are answered 503')
      }
      return core.close(until)
    },
  }
}
