// Topics held for an operator: a refusal only a fix can end (an ACL, a missing topic, a subject the registry refuses) holds its own topic.
import { ErrorCodes, isBridgeError } from '../errors.js'
import type { Logger } from '../observability/logger.js'

export type HoldReason = 'authorization' | 'topic_missing' | 'registry_refused'

export interface Hold {
  topic: string
  reason: HoldReason
  message: string
  since: Date
}

export interface TopicHolds {
  /** Holds `topic` for `error` if it is a refusal an operator must fix; false when it is not one (an outage). */
  hold(topic: string, error: unknown): boolean
  release(topic: string): void
  get(topic: string): Hold | undefined
  list(): Hold[]
}

export interface TopicHoldsOptions {
  logger: Logger
  /** A topic held (with its hold) or released (undefined): metrics, and a lane's drainer woken. */
  onChange?: (topic: string, hold: Hold | undefined) => void
  now?: () => number
}

/** The refusal behind `error`, if only an operator can end it. */
export function holdReasonOf(error: unknown): HoldReason | undefined {
  if (!isBridgeError(error)) return undefined
  switch (error.code) {
    case ErrorCodes.KAFKA_UNAUTHORIZED:
      return 'authorization'
    case ErrorCodes.KAFKA_TOPIC_MISSING:
      return 'topic_missing'
    case ErrorCodes.REGISTRY_REJECTED:
      return 'registry_refused'
    default:
      return undefined
  }
}

const WHAT: Record<HoldReason, string> = {
  authorization: "Kafka denies the bridge's principal this topic (authorization)",
  topic_missing: 'the topic does not exist and cannot be created (topic missing)',
  registry_refused: "the schema registry refuses the topic's schema (subject refused)",
}

const REMINDER_MS = 60_000

export function createTopicHolds(options: TopicHoldsOptions): TopicHolds {
  const { logger, onChange } = options
  const now = options.now ?? Date.now
  const holds = new Map<string, Hold>()
  const lastLine = new Map<string, number>()

  return {
    hold(topic, error) {
      const reason = holdReasonOf(error)
      if (reason === undefined) return false
      const message = (error as Error).message
      const current = holds.get(topic)
      const at = now()
      if (current === undefined || current.reason !== reason) {
        const hold: Hold = { topic, reason, message, since: new Date(at) }
        holds.set(topic, hold)
        onChange?.(topic, hold)
      } else {
        current.message = message
      }
      // One line per topic and reason, then a reminder a minute while it lasts: not a line per retry.
      const key = `${topic}\u0000${reason}`
      if (current?.reason !== reason || at - (lastLine.get(key) ?? 0) >= REMINDER_MS) {
        lastLine.set(key, at)
        logger.error(
          { topic, reason, err: error, since: holds.get(topic)!.since.toISOString() },
          `topic ${topic} is held: ${WHAT[reason]}: ${message}; its events wait in the spool, in order, until that is fixed; every other topic flows`,
        )
      }
      return true
    },
    release(topic) {
      const hold = holds.get(topic)
      if (hold === undefined) return
      holds.delete(topic)
      for (const key of lastLine.keys()) if (key.startsWith(`${topic}\u0000`)) lastLine.delete(key)
      logger.info({ topic, reason: hold.reason, heldSeconds: Math.round((now() - hold.since.getTime()) / 1000) }, `topic ${topic} flows again`)
      onChange?.(topic, undefined)
    },
    get: (topic) => holds.get(topic),
    list: () => [...holds.values()],
  }
}
