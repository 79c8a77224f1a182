// Replays a spool to Kafka in order, one batch at a time, with backoff while Kafka or the registry is away.
import { waitAtMost } from '../deadline.js'
import type { Logger } from '../observability/logger.js'
import { OtherFailure, refusedRecords, splitByTopic, toEntries, topicOf, unitsOf, type BatchSender, type Failure, type Refused, type Unit } from './batch-refusals.js'
import type { SpoolEntry } from './spool/frame.js'
import type { Spool, SpoolBatch } from './spool/spool.js'

export type { Failure } from './batch-refusals.js'

/** Where the records of held topics go, so that a hold keeps only its own topic waiting (the main spool's drainer). */
export interface Divert {
  /** The topic is held, or its lane still holds records: its records must join the lane, behind them. */
  wants(topic: string): boolean
  /** Holds the topic for this refusal; false if it is not one an operator must fix (then the batch waits, as in an outage). */
  hold(topic: string, error: unknown): Promise<boolean>
  /** Appends (fsynced) the topic's records to its lane, in order. */
  move(topic: string, entries: SpoolEntry[]): Promise<void>
}

export interface DrainerOptions {
  spool: Spool
  /** Delivers the entries' records to Kafka (acks=all); rejects with a retriable or a final error. */
  send: (entries: SpoolEntry[]) => Promise<void>
  /** Keeps records Kafka will never take, so they neither block the spool nor get lost; resolves with where. */
  setAside: (entries: SpoolEntry[], error: unknown) => Promise<string | void>
  /** Called, synchronously with the check, when the spool has nothing left. */
  onEmpty?: () => void
  onReplayed?: (records: number) => void
  /**
   * What a failed send means. `final`: some records will never be taken; they are found and set aside, the rest
   * delivered. `blocked`: nothing of that topic will be taken until an operator acts (an ACL, a missing topic, an
   * incompatible schema). `retry`: an outage; back off. Default: retriable → retry, else final.
   */
  classify?: (error: unknown) => Failure
  /** With it, held topics' records move to their lanes and the rest flows; without it (a lane), the drainer waits. */
  divert?: Divert
  /** A lane's drainer: its batch was refused by a hold (the error), or went through (undefined). */
  onBlocked?: (error: unknown) => void
  logger: Logger
  maxBatchRecords: number
  minBackoffMs?: number
  maxBackoffMs?: number
}

export interface Drainer {
  /** Starts replaying if not already running, or cuts a backoff short. */
  kick(): void
  readonly running: boolean
  /** Replay attempts made so far (delivered or failed), and whether the last one failed. */
  readonly attempts: number
  readonly failing: boolean
  /** Stops after the batch in progress (waiting for it at most `waitMs`); what is left stays spooled. */
  stop(waitMs: number): Promise<void>
}

const byRetriable = (error: unknown): Failure => ((error as { retriable?: boolean } | null)?.retriable === true ? { kind: 'retry' } : { kind: 'final' })

/** A batch's records set aside, moved and delivered. */
interface Replayed {
  delivered: number
  refused: Refused[]
}

export function createDrainer(options: DrainerOptions): Drainer {
  const { spool, send, setAside, onEmpty, onReplayed, onBlocked, divert, logger, maxBatchRecords } = options
  const classify = options.classify ?? byRetriable
  const sender: BatchSender = { send, classify }
  const minBackoff = options.minBackoffMs ?? 200
  const maxBackoff = options.maxBackoffMs ?? 5_000
  let loop: Promise<void> | undefined
  let stopped = false
  let wake: (() => void) | undefined
  let attempts = 0
  let lastFailed = false

  /** Sends what may be sent, moves what is held, finds what is refused for good; throws when the batch must wait. */
  async function replay(batch: SpoolBatch): Promise<Replayed> {
    const diverted = new Map<string, Unit[]>()
    const divertUnit = (topic: string, unit: Unit): void => {
      let list = diverted.get(topic)
      if (list === undefined) diverted.set(topic, (list = []))
      list.push(unit)
    }
    const sendable: Unit[] = []
    for (const unit of unitsOf(batch.entries)) {
      const topic = topicOf(unit)
      if (divert?.wants(topic) === true) divertUnit(topic, unit)
      else sendable.push(unit)
    }
    const refused: Refused[] = []
    if (sendable.length > 0) {
      try {
        await send(toEntries(sendable))
      } catch (error) {
        const kind = classify(error).kind
        if (kind === 'retry' || (kind === 'blocked' && divert === undefined)) throw error
        if (kind === 'final') refused.push(await refusedRecords(sendable, error, sender))
        else {
          const split = await splitByTopic(sendable, sender)
          refused.push(...split.refused)
          for (const [topic, held] of split.held) {
            if (!(await divert!.hold(topic, held.error))) throw new OtherFailure(held.error)
            for (const unit of held.units) divertUnit(topic, unit)
          }
        }
      }
    }
    // Units keep their batch order within a topic: a lane receives its topic's records as they were accepted.
    for (const [topic, units] of diverted) await divert!.move(topic, toEntries(units))
    for (const { units, error } of refused) {
      if (units.length === 0) continue
      const file = await setAside(toEntries(units), error)
      logger.error({ err: error, records: units.length, of: batch.records, file }, 'Kafka refused spooled records for good: those were set aside, the rest of their batch delivered')
    }
    const movedOrRefused = [...diverted.values()].reduce((n, u) => n + u.length, 0) + refused.reduce((n, r) => n + r.units.length, 0)
    return { delivered: batch.records - movedOrRefused, refused }
  }

  const pause = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      const timer = setTimeout(resolve, ms)
      wake = () => {
        clearTimeout(timer)
        resolve()
      }
    })

  async function run(): Promise<void> {
    let backoff = minBackoff
    let failing = false
    while (!stopped) {
      if (spool.entries === 0) {
        onEmpty?.()
        if (failing) logger.info('spool drained')
        return
      }
      const batch = await spool.read(maxBatchRecords)
      if (batch === undefined) {
        // Entries are accepted but still being fsynced.
        await pause(2)
        continue
      }
      let replayed: Replayed
      try {
        replayed = await replay(batch)
      } catch (caught) {
        attempts++
        lastFailed = true
        const error = caught instanceof OtherFailure ? caught.error : caught
        if (classify(error).kind === 'blocked') onBlocked?.(error)
        else if (!failing) logger.warn({ err: error, spooled: spool.entries }, 'replaying the spool failed; retrying with backoff')
        failing = true
        await pause(backoff)
        backoff = Math.min(maxBackoff, backoff * 2)
        continue
      }
      attempts++
      lastFailed = false
      await spool.ack(batch)
      onReplayed?.(replayed.delivered)
      onBlocked?.(undefined)
      backoff = minBackoff
    }
  }

  return {
    get running() {
      return loop !== undefined
    },
    get attempts() {
      return attempts
    },
    get failing() {
      return lastFailed
    },
    kick() {
      if (stopped) return
      if (loop !== undefined) {
        wake?.()
        return
      }
      let failed = false
      loop = run()
        .catch((error: unknown) => {
          failed = true
          logger.error({ err: error }, 'spool replay stopped on an error; it resumes with the next event or restart')
        })
        .finally(() => {
          loop = undefined
          wake = undefined
          // Something may have been spooled between the last check and here.
          if (spool.entries > 0 && !stopped) {
            if (failed) pause(maxBackoff).then(() => this.kick())
            else this.kick()
          }
        })
    },
    async stop(waitMs) {
      stopped = true
      wake?.()
      if (loop === undefined) return
      await waitAtMost(loop, waitMs)
    },
  }
}
