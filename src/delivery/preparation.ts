// Reaching Kafka at start-up: connect (retrying until it answers), then each topic and its subject; a topic that fails is held, alone.
import type { Logger } from '../observability/logger.js'
import type { SchemaIds } from '../avro/registry.js'
import { ErrorCodes, isBridgeError } from '../errors.js'
import type { TopicHolds } from './holds.js'
import { connectionRefusal, type KafkaEdge } from './kafka/index.js'

export interface PlannedTopic {
  topic: string
  /** The schema text its records are written with: registered under `<topic>-value` once Kafka is reached. */
  schemaText: string
}

export interface PreparationOptions {
  kafka: Pick<KafkaEdge, 'connect' | 'prepareTopic'> & Partial<Pick<KafkaEdge, 'underReplicated'>>
  schemaIds: Pick<SchemaIds, 'verify'>
  holds: Pick<TopicHolds, 'hold' | 'release' | 'get'>
  planned: () => PlannedTopic[]
  partitions: number
  retryMs: number
  /** How often a held topic's failed check (its creation, its subject) is tried again. */
  recheckMs?: number
  logger: Logger
  /** Kafka answered and the topics are checked: produce calls may be made (the spool can be replayed). */
  onReachable: () => void
  /** For the reminder line: how much waits meanwhile. */
  spooled: () => number
  now?: () => number
}

export interface Preparation {
  start(): void
  stop(): void
  /** Resolves once Kafka is reached and every topic checked (held or ready). */
  readonly prepared: Promise<void>
  /**
   * Checks the planned topics not yet checked (a reload's new sources): created, their subjects registered. Before
   * Kafka is first reached it waits for the first check, which takes every topic planned by its end.
   */
  prepareAdded(): Promise<void>
}

const REMINDER_MS = 60_000

export function createPreparation(options: PreparationOptions): Preparation {
  const { kafka, schemaIds, holds, logger, retryMs } = options
  const recheckMs = options.recheckMs ?? 30_000
  const now = options.now ?? Date.now
  let stopped = false
  let started = false
  let retry: NodeJS.Timeout | undefined
  let unreachableSince: number | undefined
  let lastReminder = 0
  let resolvePrepared: () => void = () => undefined
  const prepared = new Promise<void>((resolve) => (resolvePrepared = resolve))
  /** Topics this module holds, with the check that failed: tried again every recheckMs. */
  const failedChecks = new Map<string, PlannedTopic>()
  /** Topics checked once (ready, held, or to be tried again): a reload checks only the others. */
  const checked = new Set<string>()
  let reached = false

  /** The topic exists (created if allowed) and its subject takes the schema; false when it is held or Kafka went away. */
  async function prepareTopic(planned: PlannedTopic, created: string[]): Promise<boolean> {
    try {
      if ((await kafka.prepareTopic(planned.topic)) === 'created') created.push(planned.topic)
    } catch (error) {
      if (!holds.hold(planned.topic, error)) throw error
      failedChecks.set(planned.topic, planned)
      return false
    }
    try {
      // Once per subject at start-up: the cached id is checked against the registry (which may have been rebuilt).
      await schemaIds.verify(`${planned.topic}-value`, planned.schemaText)
    } catch (error) {
      if (holds.hold(planned.topic, error)) {
        failedChecks.set(planned.topic, planned)
        return false
      }
      // The registry away: ids are fetched on first use; until then those events wait in the spool.
      logger.warn({ err: error, topic: planned.topic }, 'could not register the schema at start-up; will retry on first use')
    }
    if (failedChecks.delete(planned.topic)) holds.release(planned.topic)
    return true
  }

  /** Checks each planned topic not checked yet; resolves with how many there were and how many are ready. */
  async function checkUnchecked(): Promise<{ topics: number; ready: number }> {
    const created: string[] = []
    let topics = 0
    let ready = 0
    // Again until none is left: a reload may plan more while these are checked.
    for (let left = options.planned().filter((p) => !checked.has(p.topic)); left.length > 0; left = options.planned().filter((p) => !checked.has(p.topic))) {
      for (const p of left) {
        checked.add(p.topic)
        topics++
        try {
          if (await prepareTopic(p, created)) ready++
        } catch (error) {
          // Kafka went away mid-way: the topic is checked again at the next recheck, and on first use.
          failedChecks.set(p.topic, p)
          logger.warn({ err: error, topic: p.topic }, 'could not check this topic; will retry')
        }
      }
    }
    if (created.length > 0) logger.info({ topics: created, partitions: options.partitions }, 'created topics')
    return { topics, ready }
  }

  async function attempt(): Promise<void> {
    try {
      await kafka.connect()
    } catch (error) {
      if (stopped) return
      const at = now()
      // Loud once, then a reminder a minute: not a line per retry.
      if (unreachableSince === undefined) {
        unreachableSince = lastReminder = at
        // A refusal to fix in the bridge's settings is said as such, not as an outage.
        const refusal = connectionRefusal(error)
        if (refusal !== undefined) logger.error({ err: error, retryEveryMs: retryMs }, `Kafka refuses the bridge's connection: ${refusal}; accepting into the spool and retrying`)
        else logger.error({ err: error, retryEveryMs: retryMs }, 'Kafka is not reachable; accepting into the spool and retrying')
      } else if (at - lastReminder >= REMINDER_MS) {
        lastReminder = at
        logger.warn({ seconds: Math.round((at - unreachableSince) / 1000), spooled: options.spooled() }, 'Kafka still not reachable')
      }
      retry = setTimeout(() => void attempt(), retryMs)
      return
    }
    if (unreachableSince !== undefined) logger.info({ seconds: Math.round((now() - unreachableSince) / 1000) }, 'Kafka reached')
    const { topics, ready } = await checkUnchecked()
    reached = true
    resolvePrepared()
    options.onReachable()
    logger.info({ topics, ready, held: topics - ready }, 'topics and schemas checked')
    await warnUnderReplicated([...checked])
    scheduleRecheck()
  }

  function scheduleRecheck(): void {
    if (stopped) return
    retry = setTimeout(() => {
      void (async () => {
        for (const p of [...failedChecks.values()]) await prepareTopic(p, []).catch(() => false)
        scheduleRecheck()
      })()
    }, recheckMs)
    retry.unref()
  }

  /** A topic below its min.insync.replicas refuses every acks=all produce: say so at start-up, not at the first 202. */
  async function warnUnderReplicated(topics: string[]): Promise<void> {
    if (kafka.underReplicated === undefined) return
    try {
      for (const p of await kafka.underReplicated(topics.filter((t) => holds.get(t) === undefined))) {
        logger.warn(p, 'topic partition has fewer in-sync replicas than its min.insync.replicas: acks=all produce calls to it fail, and its events wait in the spool')
      }
    } catch (error) {
      // A least-privilege principal may lack DESCRIBE_CONFIGS: the check is skipped, once and said so; nothing else needs it.
      if (isBridgeError(error) && error.code === ErrorCodes.KAFKA_UNAUTHORIZED) {
        logger.info('not checking the topics\' in-sync replicas at start-up: the principal may not describe topic configs (grant DESCRIBE_CONFIGS on the topics for this check)')
      } else logger.debug({ err: error }, 'could not check the topics\' in-sync replicas')
    }
  }

  return {
    prepared,
    async prepareAdded() {
      // The first check, under way or waiting for Kafka, takes every topic planned by its end.
      if (!reached) return prepared
      const { topics, ready } = await checkUnchecked()
      if (topics > 0) logger.info({ topics, ready, held: topics - ready }, 'topics of the reloaded sources checked')
    },
    start() {
      if (started || stopped) return
      started = true
      void attempt()
    },
    stop() {
      stopped = true
      clearTimeout(retry)
    },
  }
}
