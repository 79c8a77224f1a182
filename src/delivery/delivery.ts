// The delivery side assembled: Kafka's health, the batchers, the spool and its held lanes, the deliverer and drainer, their metrics and the stop.
import { join } from 'node:path'
import type { SchemaIds } from '../avro/registry.js'
import type { BridgeConfig } from '../config/schema.js'
import { ErrorCodes, isBridgeError } from '../errors.js'
import type { Logger } from '../observability/logger.js'
import type { Metrics } from '../observability/metrics.js'
import { createBatcher } from './batcher.js'
import { createDeliverer, type Deliverer } from './deliverer.js'
import { createDrainer, type Failure } from './drainer.js'
import { createTopicHolds, holdReasonOf, type TopicHolds } from './holds.js'
import type { KafkaEdge } from './kafka/index.js'
import { createKafkaWatch } from './kafka-watch.js'
import { createLanes } from './lanes.js'
import { createSpoolBudget } from './spool/budget.js'
import type { SpoolEntry } from './spool/frame.js'
import { createSchemaTexts } from './spool/schema-texts.js'
import { setAside } from './spool/set-aside.js'
import { createSpool, type Spool } from './spool/spool.js'
import type { OutboundRecord, RecordSink, SchemaRef } from './types.js'

export interface DeliveryDeps {
  config: BridgeConfig
  kafka: KafkaEdge
  schemaIds: Pick<SchemaIds, 'cachedId' | 'idFor'>
  /** The schemas records are written with: their texts are kept beside the spool. */
  schemas: readonly SchemaRef[]
  metrics: Metrics
  logger: Logger
}

export interface Delivery {
  /** Where the pipeline hands a request's records: Kafka, or the spool. */
  readonly sink: RecordSink
  readonly holds: TopicHolds
  /** The main spool's counters. */
  readonly spool: Pick<Spool, 'entries' | 'bytes' | 'usedBytes'>
  /** Did Kafka answer its last call (or probe)? */
  kafkaUp(): boolean
  /** Did Kafka answer its last produce call in time? While it did not, requests go to the spool. */
  producing(): boolean
  /** Entries waiting in each held topic's lane. */
  waiting(): { topic: string; entries: number }[]
  readonly spoolWriteError: Deliverer['spoolWriteError']
  /** Takes the spool folder's lock and recovers the spool and lanes a previous run left. */
  open(): Promise<void>
  /** Starts the idle probe, and the replay of what a previous run left. */
  start(): void
  /** Kafka was reached and the topics checked: produce calls may be made. */
  kafkaReached(): void
  /**
   * Replays while Kafka answers and something it can take waits, for up to `graceMs`; then stops, flushes and closes.
   * Resolves with the entries left in the spool and lanes.
   */
  close(graceMs: number): Promise<{ left: number }>
}

const REPLAY_WAIT_MS = 2_000
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

export function createDelivery(deps: DeliveryDeps): Delivery {
  const { config, kafka, schemaIds, metrics, logger } = deps
  const spoolDir = config.spool.dir
  const budget = createSpoolBudget(config.spool.maxBytes)
  const spool = createSpool({ dir: spoolDir, maxBytes: config.spool.maxBytes, budget, logger })
  const schemaTexts = createSchemaTexts(spoolDir, deps.schemas)

  // Every produce call's outcome, and a metadata probe when the bridge is idle: while spooling, the drainer's
  // attempts say whether Kafka is back.
  const kafkaWatch = createKafkaWatch({ probe: () => kafka.probe(), intervalMs: config.kafka.probeIntervalMs, onChange: (up) => metrics.kafkaUp.set(up ? 1 : 0) })
  metrics.kafkaUp.set(0)
  /**
   * Where requests go follows Kafka's last answer to a produce call (or its silence past ackTimeoutMs), not the idle
   * probe: one slow metadata request on a loaded machine must not send events to the spool that Kafka would take.
   */
  let produceAnswered = false
  const answered = (yes: boolean): void => {
    produceAnswered = yes
    kafkaWatch.observe(yes)
  }
  const observeBatch = (records: readonly OutboundRecord[], seconds: number, error?: unknown): void => {
    metrics.batches.inc({ result: error === undefined ? 'ok' : 'error' })
    metrics.batchRecords.observe(records.length)
    metrics.batchSeconds.observe(seconds)
    // A refusal is an answer too: Kafka is up, it just will not take these records.
    answered(error === undefined || !isBridgeError(error) || !error.retriable)
    if (error !== undefined) return void logger.debug({ err: error, records: records.length }, 'produce call failed')
    if (records.length === 1) return void metrics.records.inc({ topic: records[0]!.topic })
    const perTopic = new Map<string, number>()
    for (const r of records) perTopic.set(r.topic, (perTopic.get(r.topic) ?? 0) + 1)
    for (const [topic, count] of perTopic) metrics.records.inc({ topic }, count)
  }
  const batcher = createBatcher({
    send: (records) => kafka.send(records),
    lingerMs: config.kafka.lingerMs,
    busyLingerMs: config.kafka.busyLingerMs,
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
      else lanes.kick(topic)
    },
  })
  const replayed = (records: number): void => {
    metrics.replayed.inc(records)
    metrics.replays.inc({ kind: 'spool' }, records)
  }
  const keepRefused = (entries: SpoolEntry[], error: unknown) => setAside(spoolDir, entries, error)
  const lanes = createLanes({
    dir: spoolDir,
    budget,
    holds,
    send: (entries) => deliverer.sendSpooled(entries, laneBatcher),
    setAside: keepRefused,
    classify: classifyReplayFailure,
    onReplayed: replayed,
    logger,
    maxBatchRecords: config.kafka.maxBatchRecords,
  })
  const deliverer: Deliverer = createDeliverer({
    batcher,
    spool,
    schemaIds,
    schemaTexts,
    ackTimeoutMs: config.kafka.ackTimeoutMs,
    logger,
    kafkaAnswers: () => produceAnswered,
    onKafkaUnanswered: () => answered(false),
    topicWaits: (topic) => lanes.wants(topic),
    onSpooled: () => drainer.kick(),
    onSpoolWriteFailed: (error) => metrics.spoolWriteFailures.inc({ reason: error.code === ErrorCodes.SPOOL_FULL ? 'full' : 'io' }),
  })
  /** A produce refused as UNKNOWN_TOPIC while the topic is listed is a broker catching up, not a missing topic. */
  async function holdUnlessListed(topic: string, error: unknown): Promise<boolean> {
    if (holdReasonOf(error) === 'topic_missing' && (await kafka.topicExists(topic).catch(() => false))) return false
    return holds.hold(topic, error)
  }
  const drainer = createDrainer({
    spool,
    send: (entries) => deliverer.sendSpooled(entries),
    setAside: keepRefused,
    classify: classifyReplayFailure,
    divert: { wants: (topic) => lanes.wants(topic), hold: holdUnlessListed, move: (topic, entries) => lanes.append(topic, entries) },
    onReplayed: replayed,
    logger,
    maxBatchRecords: config.kafka.maxBatchRecords,
  })
  metrics.observeSpool(() => ({ entries: spool.entries, bytes: spool.bytes, held: lanes.waiting(), oldestReceivedAt: () => spool.oldestReceivedAt() }))
  metrics.spoolMaxBytes.set(config.spool.maxBytes)

  /**
   * Replays while something Kafka can take waits, until `until`, or until Kafka shows it does not answer: a replay
   * attempt made during the stop failed, or none completed for ackTimeoutMs while its last answer was none (a
   * stalled broker never fails an attempt). What is left stays in the spool for the next start.
   */
  async function drainWhileKafkaAnswers(until: number): Promise<'drained' | 'deadline' | 'kafka silent'> {
    const deliverable = (): number => spool.entries + lanes.deliverable
    if (deliverable() === 0) return 'drained'
    if (performance.now() >= until) return 'deadline'

    logger.info({ entries: deliverable(), graceMs: Math.round(until - performance.now()) }, 'replaying the spool to Kafka before stopping')
    const before = drainer.attempts
    let attempts = before
    let progressAt = performance.now()
    const answering = (): boolean => {
      if (drainer.attempts !== attempts) {
        attempts = drainer.attempts
        progressAt = performance.now()
      }
      if (drainer.failing && drainer.attempts > before) return false
      return produceAnswered || performance.now() - progressAt < config.kafka.ackTimeoutMs
    }
    for (;;) {
      if (deliverable() === 0) return 'drained'
      if (performance.now() >= until) return 'deadline'
      if (!answering()) return 'kafka silent'
      // Cuts a backoff short: the stop does not wait for the next scheduled attempt.
      drainer.kick()
      lanes.kickFlowing()
      await new Promise((resolve) => setTimeout(resolve, DRAIN_CHECK_MS))
    }
  }

  return {
    sink: deliverer,
    holds,
    spool,
    kafkaUp: () => kafkaWatch.up,
    producing: () => produceAnswered,
    waiting: () => lanes.waiting(),
    get spoolWriteError() {
      return deliverer.spoolWriteError
    },
    async open() {
      await spool.open()
      try {
        await lanes.open()
      } catch (error) {
        await spool.close()
        throw error
      }
    },
    start() {
      if (spool.entries > 0) drainer.kick()
      kafkaWatch.start()
    },
    kafkaReached() {
      answered(true)
      drainer.kick()
    },
    async close(graceMs) {
      const until = performance.now() + Math.max(0, graceMs)
      const drained = await drainWhileKafkaAnswers(until)
      kafkaWatch.stop()
      // A replay in flight is still in the spool, and every request was answered before this (202 if Kafka was slow):
      // its ack is waited for only while Kafka answers, so that it is not replayed twice; nothing else is waited for.
      const waitMs = drained === 'kafka silent' ? 0 : Math.min(REPLAY_WAIT_MS, Math.max(0, until - performance.now()))
      await Promise.all([drainer.stop(waitMs), lanes.stop(waitMs)])
      const entries = spool.entries + lanes.waiting().reduce((n, lane) => n + lane.entries, 0)
      await spool.close()
      await lanes.close()
      return { left: entries }
    },
  }
}

/** The schema-ids cache lives beside the spool: a cold start with the registry down can still encode. */
export const schemaIdsCacheFile = (config: BridgeConfig): string => join(config.spool.dir, 'schema-ids.json')
