// Lets concurrent requests share one produce call: linger when idle, one call in flight, the rest queue behind it.
import type { OutboundRecord, RecordSink } from './types.js'

export interface BatcherOptions {
  /** Sends one batch; resolves when Kafka acknowledged every record of it. */
  send: (records: OutboundRecord[]) => Promise<void>
  lingerMs: number
  maxBatchRecords: number
  onBatch?: (records: number, seconds: number, error?: unknown) => void
}

interface Waiter {
  records: readonly OutboundRecord[]
  resolve: () => void
  reject: (error: unknown) => void
}

export interface Batcher extends RecordSink {
  /** Resolves when everything submitted so far is settled. */
  flush(): Promise<void>
  readonly queuedRecords: number
}

/**
 * States: idle (nothing queued) → lingering (timer armed) → sending (one call in flight; new requests queue)
 * → sending again at once if anything queued meanwhile, else idle. One call at a time keeps per-key order
 * equal to the order requests were accepted.
 */
export function createBatcher(options: BatcherOptions): Batcher {
  const { send, lingerMs, maxBatchRecords, onBatch } = options
  let queue: Waiter[] = []
  let queued = 0
  let sending: Promise<void> | undefined
  let timer: NodeJS.Timeout | undefined

  function takeBatch(): Waiter[] {
    // A request's records travel together, even when they alone exceed maxBatchRecords.
    let count = 0
    let n = 0
    while (n < queue.length) {
      const size = queue[n]!.records.length
      if (n > 0 && count + size > maxBatchRecords) break
      count += size
      n++
    }
    const batch = queue.slice(0, n)
    queue = queue.slice(n)
    queued -= count
    return batch
  }

  function dispatch(): void {
    timer = undefined
    if (sending !== undefined || queue.length === 0) return
    const batch = takeBatch()
    const records = batch.flatMap((w) => w.records)
    const started = process.hrtime.bigint()
    sending = send(records).then(
      () => {
        onBatch?.(records.length, Number(process.hrtime.bigint() - started) / 1e9)
        for (const w of batch) w.resolve()
      },
      (error: unknown) => {
        onBatch?.(records.length, Number(process.hrtime.bigint() - started) / 1e9, error)
        for (const w of batch) w.reject(error)
      },
    )
    void sending.finally(() => {
      sending = undefined
      // What queued during the call waited long enough: no second linger.
      if (queue.length > 0) dispatch()
    })
  }

  return {
    get queuedRecords() {
      return queued
    },
    deliver(records) {
      if (records.length === 0) return Promise.resolve()
      return new Promise<void>((resolve, reject) => {
        queue.push({ records, resolve, reject })
        queued += records.length
        if (sending !== undefined) return
        if (queued >= maxBatchRecords || lingerMs === 0) {
          if (timer !== undefined) clearTimeout(timer)
          dispatch()
        } else {
          timer ??= setTimeout(dispatch, lingerMs)
        }
      })
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
