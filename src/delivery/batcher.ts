// Lets concurrent requests share produce calls: linger when idle, one call in flight, the rest queue behind it.
import { createGathering } from './gathering.js'
import type { OutboundRecord } from './types.js'

export interface BatcherOptions {
  /** Sends one batch; resolves when Kafka acknowledged every record of it. */
  send: (records: OutboundRecord[]) => Promise<void>
  lingerMs: number
  /**
   * While requests keep arriving, a call waits for them up to this long after its oldest request (gathering.ts says
   * when it goes sooner: a lone request, arrivals stopping, every waiting sender back). 0 (the default): never.
   */
  busyLingerMs?: number
  maxBatchRecords: number
  /** Bytes per produce call at most (one record larger than this still goes, alone). */
  maxBatchBytes?: number
  /** After each produce call, with the records it carried: for metrics and Kafka's health. */
  onBatch?: (records: readonly OutboundRecord[], seconds: number, error?: unknown) => void
  /**
   * A call that fails with an error `retriable` accepts (a leader moving, a topic its broker has not yet loaded) is
   * sent again, whole, after a pause of 25 ms doubling to at most 500 ms, while its first attempt is younger than
   * this. 0 (the default): never; the call's requests fail at once.
   */
  retryWindowMs?: number
  retriable?: (error: unknown) => boolean
  /** Milliseconds, for the retry window; tests pass their own. */
  now?: () => number
}

interface Waiter {
  /** Records not yet acknowledged. */
  remaining: number
  settled: boolean
  resolve: () => void
  reject: (error: unknown) => void
}

interface Queued {
  records: readonly OutboundRecord[]
  /** The topics its records go to: a request may pass another only if they share none. */
  topics: ReadonlySet<string>
  /** Index of the first record not yet taken into a call. */
  next: number
  waiter: Waiter
  arrivedAt: number
}

export interface Batcher {
  /** Resolves when Kafka acknowledged every record (acks=all). */
  deliver(records: readonly OutboundRecord[]): Promise<void>
  /** Rejects every request not yet in a call (the one in flight goes on), in queue order. */
  failQueued(error: unknown): void
  /** Resolves when everything submitted so far is settled. */
  flush(): Promise<void>
  readonly queuedRecords: number
}

/** What a record costs in a produce request: value, key, headers and Kafka's per-record overhead. */
export function recordBytes(record: OutboundRecord): number {
  let bytes = 70 + record.value.length + Buffer.byteLength(record.key)
  for (const name in record.headers) bytes += name.length + Buffer.byteLength(record.headers[name]!) + 8
  return bytes
}

const DEFAULT_MAX_BATCH_BYTES = 256 * 1024

/**
 * States: idle (nothing queued) → lingering (timer armed) → sending (one call in flight; new requests queue)
 * → sending again if anything queued meanwhile (when gathering.ts says so), else idle.
 * One call at a time keeps per-key order equal to the order requests were accepted. A large request is split over
 * several calls (Kafka refuses a partition's batch over its message size limit) and resolves when all of them are
 * acknowledged; requests for other topics pass it (takeBatch).
 * A call that failed for an outage rejects its requests and every request queued behind it, so that they can
 * all take the same fallback in the same order; one refused (an ACL, a missing topic) rejects with it only the
 * queued requests that share one of its topics, and the others are sent next.
 */
export function createBatcher(options: BatcherOptions): Batcher {
  const { send, lingerMs, maxBatchRecords, onBatch } = options
  const maxBatchBytes = options.maxBatchBytes ?? DEFAULT_MAX_BATCH_BYTES
  const retryWindowMs = options.retryWindowMs ?? 0
  const gathering = createGathering(options.busyLingerMs ?? 0)
  const retriable = options.retriable ?? (() => false)
  const now = options.now ?? performance.now.bind(performance)
  let queue: Queued[] = []
  let queued = 0
  let sending: Promise<void> | undefined
  let timer: NodeJS.Timeout | undefined

  /**
   * The next call's records. Requests that fit whole go first, in queue order; then the first one that does not
   * fit fills what is left. A request that does not fit (a large batch) thus takes a call's room only after those
   * behind it that fit: a DV2000 event waits for one call, not for a 10,000-record batch. Per-key order holds:
   * a request never passes an unfinished one that shares a topic with it.
   */
  function takeBatch(): { records: OutboundRecord[]; parts: Map<Waiter, number> } {
    const records: OutboundRecord[] = []
    const parts = new Map<Waiter, number>()
    let bytes = 0
    const take = (item: Queued, whole: boolean): boolean => {
      // How many of its next records fit beside what the call holds, and their bytes.
      let count = 0
      let more = bytes
      for (let i = item.next; i < item.records.length; i++) {
        if (records.length + count >= maxBatchRecords) break
        const size = recordBytes(item.records[i]!)
        if (records.length + count > 0 && more + size > maxBatchBytes) break
        count++
        more += size
      }
      if (count === 0 || (whole && item.next + count < item.records.length)) return false
      for (let i = 0; i < count; i++) records.push(item.records[item.next++]!)
      bytes = more
      parts.set(item.waiter, (parts.get(item.waiter) ?? 0) + count)
      return true
    }
    const unfinished = new Set<string>()
    let partial: Queued | undefined
    for (const item of queue) {
      const passes = ![...item.topics].some((topic) => unfinished.has(topic))
      if (passes && take(item, true)) continue
      if (passes) partial ??= item
      for (const topic of item.topics) unfinished.add(topic)
    }
    if (partial !== undefined) take(partial, false)
    queue = queue.filter((item) => item.next < item.records.length)
    queued -= records.length
    return { records, parts }
  }

  function fail(waiter: Waiter, error: unknown): void {
    if (waiter.settled) return
    waiter.settled = true
    waiter.reject(error)
  }

  /**
   * One call, sent again whole on a retriable failure while the window lasts. Whole, because kafkajs's own retry
   * (which resends only to brokers that have not answered) loses records when leadership moves (kafka.ts); a
   * partition the failed attempt did write gets the records twice (at-least-once, as every replay).
   */
  async function sendWithRetry(records: OutboundRecord[]): Promise<void> {
    const first = now()
    let pause = 25
    for (;;) {
      const started = process.hrtime.bigint()
      try {
        await send(records)
        onBatch?.(records, Number(process.hrtime.bigint() - started) / 1e9)
        return
      } catch (error) {
        onBatch?.(records, Number(process.hrtime.bigint() - started) / 1e9, error)
        if (!retriable(error) || now() + pause - first >= retryWindowMs) throw error
      }
      await new Promise((resolve) => setTimeout(resolve, pause))
      pause = Math.min(500, pause * 2)
    }
  }

  function dispatch(): void {
    timer = undefined
    if (sending !== undefined || queue.length === 0) return
    gathering.began(now(), queue.length, queue[0]!.arrivedAt)
    const { records, parts } = takeBatch()
    sending = sendWithRetry(records).then(
      () => {
        for (const [waiter, count] of parts) {
          waiter.remaining -= count
          if (waiter.remaining === 0 && !waiter.settled) {
            waiter.settled = true
            waiter.resolve()
          }
        }
      },
      (error: unknown) => {
        for (const waiter of parts.keys()) fail(waiter, error)
        const outage = (error as { retriable?: unknown } | null)?.retriable === true
        const topics = new Set(records.map((r) => r.topic))
        const behind = queue
        queue = []
        queued = 0
        for (const item of behind) {
          if (outage || item.waiter.settled || item.records.some((r) => topics.has(r.topic))) fail(item.waiter, error)
          else {
            queue.push(item)
            queued += item.records.length - item.next
          }
        }
      },
    )
    void sending.finally(() => {
      sending = undefined
      // What queued during the call has had its lingerMs; whether it waits for more company is gathering's call.
      if (queue.length > 0) dispatchWhenGathered(0)
    })
  }

  /** The next call at once (a full batch goes at once too), or once it waited `lingerMs` and gathering says go. */
  function dispatchWhenGathered(lingerMs: number): void {
    const at = now()
    const oldestAt = queue[0]!.arrivedAt
    const waitMs = Math.max(oldestAt + lingerMs - at, gathering.waitMs(at, queue.length, oldestAt))
    if (queued >= maxBatchRecords || waitMs <= 0) {
      if (timer !== undefined) clearTimeout(timer)
      dispatch()
    } else {
      // Arrivals since the timer was armed may have moved the moment; it is asked again when the timer fires.
      timer ??= setTimeout(() => {
        timer = undefined
        if (sending === undefined && queue.length > 0) dispatchWhenGathered(lingerMs)
      }, waitMs)
    }
  }

  return {
    get queuedRecords() {
      return queued
    },
    deliver(records) {
      if (records.length === 0) return Promise.resolve()
      return new Promise<void>((resolve, reject) => {
        const topics = new Set(records.map((r) => r.topic))
        const arrivedAt = now()
        gathering.arrived(arrivedAt, sending !== undefined)
        queue.push({ records, topics, next: 0, waiter: { remaining: records.length, settled: false, resolve, reject }, arrivedAt })
        queued += records.length
        if (sending === undefined) dispatchWhenGathered(lingerMs)
      })
    },
    failQueued(error) {
      const behind = queue
      queue = []
      queued = 0
      if (timer !== undefined) clearTimeout(timer)
      timer = undefined
      for (const item of behind) fail(item.waiter, error)
    },
    async flush() {
      while (sending !== undefined || queue.length > 0) {
        if (sending === undefined) {
          if (timer !== undefined) clearTimeout(timer)
          dispatch()
        }
        await sending?.catch(() => undefined)
      }
    },
  }
}
