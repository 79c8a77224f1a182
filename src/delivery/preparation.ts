// Reaching Kafka at start-up: connect and create the topics, retrying until it answers, then register the schemas.
import type { Logger } from '../observability/logger.js'
import type { SchemaIds } from '../avro/registry.js'
import type { KafkaEdge } from './kafka.js'

export interface PlannedTopic {
  topic: string
  /** The schema text its records are written with: registered under `<topic>-value` once Kafka is reached. */
  schemaText: string
}

export interface PreparationOptions {
  kafka: Pick<KafkaEdge, 'prepare'> & Partial<Pick<KafkaEdge, 'underReplicated'>>
  schemaIds: Pick<SchemaIds, 'verify'>
  planned: () => PlannedTopic[]
  partitions: number
  retryMs: number
  logger: Logger
  /** Kafka answered: produce calls may be made (the spool can be replayed). */
  onReachable: () => void
  /** For the reminder line: how much waits meanwhile. */
  spooled: () => number
  now?: () => number
}

export interface Preparation {
  start(): void
  stop(): void
  /** Resolves once Kafka is reached and the topics exist. */
  readonly prepared: Promise<void>
}

const REMINDER_MS = 60_000

export function createPreparation(options: PreparationOptions): Preparation {
  const { kafka, schemaIds, logger, retryMs } = options
  const now = options.now ?? Date.now
  let stopped = false
  let started = false
  let retry: NodeJS.Timeout | undefined
  let unreachableSince: number | undefined
  let lastReminder = 0
  let resolvePrepared: () => void = () => undefined
  const prepared = new Promise<void>((resolve) => (resolvePrepared = resolve))

  async function attempt(): Promise<void> {
    const planned = options.planned()
    try {
      const created = await kafka.prepare(planned.map((p) => p.topic))
      if (created.length > 0) logger.info({ topics: created, partitions: options.partitions }, 'created topics')
    } catch (error) {
      if (stopped) return
      const at = now()
      // Loud once, then a reminder a minute: not a line per retry.
      if (unreachableSince === undefined) {
        unreachableSince = lastReminder = at
        logger.error({ err: error, retryEveryMs: retryMs }, 'Kafka is not reachable; accepting into the spool and retrying')
      } else if (at - lastReminder >= REMINDER_MS) {
        lastReminder = at
        logger.warn({ seconds: Math.round((at - unreachableSince) / 1000), spooled: options.spooled() }, 'Kafka still not reachable')
      }
      retry = setTimeout(() => void attempt(), retryMs)
      return
    }
    if (unreachableSince !== undefined) logger.info({ seconds: Math.round((now() - unreachableSince) / 1000) }, 'Kafka reached')
    resolvePrepared()
    options.onReachable()
    await warnUnderReplicated(planned.map((p) => p.topic))
    try {
      // Once per subject at start-up: the cached id is checked against the registry (which may have been rebuilt).
      for (const { topic, schemaText } of planned) await schemaIds.verify(`${topic}-value`, schemaText)
      logger.info({ topics: planned.length }, 'topics and schemas ready')
    } catch (error) {
      // Ids are fetched again on first use; until then those events wait in the spool.
      logger.warn({ err: error }, 'could not register every schema at start-up; will retry on first use')
    }
  }

  /** A topic below its min.insync.replicas refuses every acks=all produce: say so at start-up, not at the first 202. */
  async function warnUnderReplicated(topics: string[]): Promise<void> {
    if (kafka.underReplicated === undefined) return
    try {
      for (const p of await kafka.underReplicated(topics)) {
        logger.warn(p, 'topic partition has fewer in-sync replicas than its min.insync.replicas: acks=all produce calls to it fail, and its events wait in the spool')
      }
    } catch (error) {
      logger.debug({ err: error }, 'could not check the topics\' in-sync replicas')
    }
  }

  return {
    prepared,
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
