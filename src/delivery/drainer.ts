// Replays the spool to Kafka in order, one batch at a time, with backoff while Kafka or the registry is away.
import { waitAtMost } from '../deadline.js'
import type { Logger } from '../observability/logger.js'
import type { SpoolEntry } from './spool/frame.js'
import type { Spool } from './spool/spool.js'

export interface DrainerOptions {
  spool: Spool
  /** Delivers the entries' records to Kafka (acks=all); rejects with a retriable or a final error. */
  send: (entries: SpoolEntry[]) => Promise<void>
  /** Keeps records Kafka will never take (see classify), so they neither block the spool nor get lost. */
  /** Resolves with where they were kept, for the log. */
  setAside: (entries: SpoolEntry[], error: unknown) => Promise<string | void>
  /** Called, synchronously with the check, when the spool has nothing left: delivery may go direct again. */
  onEmpty: () => void
  onReplayed?: (records: number) => void
  /**
   * What a failed send means. `final`: some records will never be taken; they are found and set aside, the
   * rest delivered. `blocked`: nothing will be taken until an operator acts (an ACL, an incompatible schema);
   * the spool holds, loudly. `retry`: an outage; back off. Default: retriable → retry, else final.
   */
  classify?: (error: unknown) => Failure
  /** The spool is held (`reason` says why) or flows again (undefined). */
  onBlocked?: (blocked: Blocked | undefined) => void
  logger: Logger
  maxBatchRecords: number
  minBackoffMs?: number
  maxBackoffMs?: number
}

export type Failure = { kind: 'final' } | { kind: 'blocked'; reason: string } | { kind: 'retry' }

export interface Blocked {
  /** A short, stable name for metrics: kafka_authorization, registry_refused… */
  reason: string
  message: string
  since: Date
}

export interface Drainer {
  /** Starts replaying if not already running. */
  kick(): void
  readonly running: boolean
  /** Why the spool is held for an operator, if it is. */
  readonly blocked: Blocked | undefined
  /** Stops after the batch in progress (waiting for it at most `waitMs`); what is left stays spooled. */
  stop(waitMs: number): Promise<void>
}

const byRetriable = (error: unknown): Failure => ((error as { retriable?: boolean } | null)?.retriable === true ? { kind: 'retry' } : { kind: 'final' })

/** One record of a batch: which entry it came from, so that what is set aside keeps its entry's time. */
interface Unit {
  entry: SpoolEntry
  index: number
}

/** Units back into entries (consecutive units of one entry share one), in order. */
function toEntries(units: readonly Unit[]): SpoolEntry[] {
  const out: SpoolEntry[] = []
  let last: SpoolEntry | undefined
  let current: SpoolEntry | undefined
  for (const { entry, index } of units) {
    if (entry !== last) {
      current = { receivedAt: entry.receivedAt, records: [] }
      out.push(current)
      last = entry
    }
    current!.records.push(entry.records[index]!)
  }
  return out
}

/** Signals that a send failed for another reason than the one being bisected: the whole batch is retried later. */
class NotFinal extends Error {
  constructor(readonly error: unknown) {
    super('not final')
  }
}

export function createDrainer(options: DrainerOptions): Drainer {
  const { spool, send, setAside, onEmpty, onReplayed, onBlocked, logger, maxBatchRecords } = options
  const classify = options.classify ?? byRetriable
  const minBackoff = options.minBackoffMs ?? 200
  const maxBackoff = options.maxBackoffMs ?? 5_000
  let loop: Promise<void> | undefined
  let stopped = false
  let wake: (() => void) | undefined
  let blocked: Blocked | undefined
  let lastBlockedLog = 0

  function block(reason: string, error: unknown): void {
    const message = (error as Error | null)?.message ?? String(error)
    const now = Date.now()
    const changed = blocked === undefined || blocked.reason !== reason
    const current: Blocked = changed ? { reason, message, since: new Date(now) } : blocked!
    if (changed) {
      blocked = current
      onBlocked?.(current)
    }
    // Loud, but not a line per retry: at each new reason, then a reminder a minute.
    if (changed || now - lastBlockedLog >= 60_000) {
      lastBlockedLog = now
      logger.error(
        { err: error, reason, spooled: spool.entries, since: current.since.toISOString() },
        'the spool is held: Kafka or the registry refuses its records until an operator fixes the cause; events are still accepted into the spool',
      )
    }
  }

  function unblock(): void {
    if (blocked === undefined) return
    logger.info({ reason: blocked.reason, heldSeconds: Math.round((Date.now() - blocked.since.getTime()) / 1000) }, 'the spool flows again')
    blocked = undefined
    lastBlockedLog = 0
    onBlocked?.(undefined)
  }

  /**
   * The records of a batch Kafka refused for good, found by halving it: every half that goes through is
   * delivered, in order, before the next; a single record refused for good is what is set aside. A failure of
   * another kind on the way (an outage) stops the search: the whole batch is retried (duplicates, never loss).
   */
  async function refusedRecords(units: readonly Unit[], error: unknown): Promise<{ units: Unit[]; error: unknown }> {
    if (units.length === 1) return { units: [...units], error }
    const middle = units.length >> 1
    const refused: Unit[] = []
    let reason = error
    for (const half of [units.slice(0, middle), units.slice(middle)]) {
      try {
        await send(toEntries(half))
      } catch (halfError) {
        if (classify(halfError).kind !== 'final') throw new NotFinal(halfError)
        const found = await refusedRecords(half, halfError)
        refused.push(...found.units)
        reason = found.error
      }
    }
    return { units: refused, error: reason }
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
        onEmpty()
        if (failing) logger.info('spool drained: delivering straight to Kafka again')
        return
      }
      const batch = await spool.read(maxBatchRecords)
      if (batch === undefined) {
        // Entries are accepted but still being fsynced.
        await pause(2)
        continue
      }
      let failure: unknown
      try {
        await send(batch.entries)
      } catch (error) {
        failure = error
      }
      if (failure !== undefined && classify(failure).kind === 'final') {
        const units = batch.entries.flatMap((entry) => entry.records.map((_, index) => ({ entry, index })))
        try {
          const refused = await refusedRecords(units, failure)
          // Halves of a batch refused only for its total size may all go through: then nothing is set aside.
          if (refused.units.length > 0) {
            const file = await setAside(toEntries(refused.units), refused.error)
            logger.error(
              { err: refused.error, records: refused.units.length, of: batch.records, file },
              'Kafka refused spooled records for good: those were set aside, the rest of their batch delivered',
            )
          }
          failure = undefined
          onReplayed?.(batch.records - refused.units.length)
          await spool.ack(batch)
          unblock()
          backoff = minBackoff
          continue
        } catch (error) {
          failure = error instanceof NotFinal ? error.error : error
        }
      }
      if (failure !== undefined) {
        const kind = classify(failure)
        if (kind.kind === 'blocked') block(kind.reason, failure)
        else if (!failing) logger.warn({ err: failure, spooled: spool.entries }, 'replaying the spool failed; retrying with backoff')
        failing = true
        await pause(backoff)
        backoff = Math.min(maxBackoff, backoff * 2)
        continue
      }
      await spool.ack(batch)
      onReplayed?.(batch.records)
      unblock()
      backoff = minBackoff
    }
  }

  return {
    get running() {
      return loop !== undefined
    },
    get blocked() {
      return blocked
    },
    kick() {
      if (loop !== undefined || stopped) return
      let failed = false
      loop = run()
        .catch((error: unknown) => {
          failed = true
          logger.error({ err: error }, 'spool replay stopped on an error; it resumes with the next event or restart')
        })
        .finally(() => {
          loop = undefined
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
