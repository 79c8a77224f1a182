// Replays the spool to Kafka in order, one batch at a time, with backoff while Kafka or the registry is away.
import { waitAtMost } from '../deadline.js'
import type { Logger } from '../observability/logger.js'
import type { SpoolEntry } from './spool/frame.js'
import type { Spool } from './spool/spool.js'

export interface DrainerOptions {
  spool: Spool
  /** Delivers the entries' records to Kafka (acks=all); rejects with a retriable or a final error. */
  send: (entries: SpoolEntry[]) => Promise<void>
  /** Keeps entries Kafka will never take (see isFinal), so they neither block the spool nor get lost. */
  setAside: (entries: SpoolEntry[], error: unknown) => Promise<void>
  /** Called, synchronously with the check, when the spool has nothing left: delivery may go direct again. */
  onEmpty: () => void
  onReplayed?: (records: number) => void
  /** Errors no wait will cure: the batch is set aside. Default: not `retriable`. Anything else is retried. */
  isFinal?: (error: unknown) => boolean
  logger: Logger
  maxBatchRecords: number
  minBackoffMs?: number
  maxBackoffMs?: number
}

export interface Drainer {
  /** Starts replaying if not already running. */
  kick(): void
  readonly running: boolean
  /** Stops after the batch in progress (waiting for it at most `waitMs`); what is left stays spooled. */
  stop(waitMs: number): Promise<void>
}

const notRetriable = (error: unknown): boolean => (error as { retriable?: boolean } | null)?.retriable !== true

export function createDrainer(options: DrainerOptions): Drainer {
  const { spool, send, setAside, onEmpty, onReplayed, logger, maxBatchRecords } = options
  const isFinal = options.isFinal ?? notRetriable
  const minBackoff = options.minBackoffMs ?? 200
  const maxBackoff = options.maxBackoffMs ?? 5_000
  let loop: Promise<void> | undefined
  let stopped = false
  let wake: (() => void) | undefined

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
      try {
        await send(batch.entries)
      } catch (error) {
        if (isFinal(error)) {
          logger.error({ err: error, entries: batch.entries.length, records: batch.records }, 'Kafka or the registry refused spooled records for good; set aside in the spool folder')
          await setAside(batch.entries, error)
          await spool.ack(batch)
          continue
        }
        if (!failing) logger.warn({ err: error, spooled: spool.entries }, 'replaying the spool failed; retrying with backoff')
        failing = true
        await pause(backoff)
        backoff = Math.min(maxBackoff, backoff * 2)
        continue
      }
      await spool.ack(batch)
      onReplayed?.(batch.records)
      backoff = minBackoff
    }
  }

  return {
    get running() {
      return loop !== undefined
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
