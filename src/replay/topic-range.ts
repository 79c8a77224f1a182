// Reads a span of a topic, partition by partition in offset order: from Kafka's offset for a time (or the start) to its
// offset for another time (or the end as it was when reading began), never scanning the rest.
import type { IHeaders, Kafka } from 'kafkajs'
import type { BridgeConfig } from '../config/schema.js'
import { createReader, rethrowWrapped } from '../delivery/kafka/index.js'

export interface RangeMessage {
  topic: string
  partition: number
  offset: string
  /** Kafka's record timestamp, epoch ms. */
  timestamp: number
  key: Buffer | null
  value: Buffer | null
  headers: IHeaders
}

export interface RangeOptions {
  /** Epoch ms: start at the first record whose timestamp is at or after `sinceMs - sinceSlackMs`. */
  sinceMs?: number | undefined
  /** Epoch ms: stop before the first record whose timestamp is at or after `untilMs + untilSlackMs`. */
  untilMs?: number | undefined
  /**
   * Kafka finds offsets by record timestamps (produce times), which a partition holds in nearly but not strictly
   * increasing order (two instances, two clocks): the span starts this much earlier (default 60 s). The caller
   * selects exactly, by its own times.
   */
  sinceSlackMs?: number
  /**
   * A record is produced at or after what it carries happened, later when it waited (in a spool, through a Kafka
   * outage): the span ends this much later (default 1 h), so that what waited that long is still read.
   */
  untilSlackMs?: number
  /** No record for this long while partitions are unfinished: the read fails rather than hang. */
  idleMs?: number
}

interface Span {
  start: bigint
  end: bigint
}

/** Offsets per partition of [since, until), from the low and high watermarks and Kafka's offsets for times. */
async function spans(kafka: Kafka, topic: string, options: RangeOptions): Promise<Map<number, Span> | undefined> {
  const admin = kafka.admin()
  await admin.connect()
  try {
    if (!(await admin.listTopics()).includes(topic)) return undefined
    const water = await admin.fetchTopicOffsets(topic)
    const byTime = async (ms: number | undefined): Promise<Map<number, bigint> | undefined> =>
      ms === undefined ? undefined : new Map((await admin.fetchTopicOffsetsByTimestamp(topic, ms)).map((p) => [p.partition, BigInt(p.offset)]))
    const starts = await byTime(options.sinceMs === undefined ? undefined : options.sinceMs - (options.sinceSlackMs ?? 60_000))
    const ends = await byTime(options.untilMs === undefined ? undefined : options.untilMs + (options.untilSlackMs ?? 3_600_000))
    const out = new Map<number, Span>()
    for (const p of water) {
      const low = BigInt(p.low)
      const high = BigInt(p.high)
      const start = starts?.get(p.partition) ?? low
      const end = ends?.get(p.partition) ?? high
      const span = { start: start < low ? low : start, end: end > high ? high : end }
      if (span.start < span.end) out.set(p.partition, span)
    }
    return out
  } finally {
    await admin.disconnect()
  }
}

/**
 * Calls `each` for every record of the span, one at a time, in offset order per partition. Resolves with how many
 * were read, or undefined when the topic does not exist; rejects with the first error `each` throws.
 */
export async function readRange(kafka: Kafka, config: BridgeConfig, topic: string, options: RangeOptions, each: (message: RangeMessage) => Promise<void>): Promise<number | undefined> {
  const ranges = await spans(kafka, topic, options).catch(rethrowWrapped(`listing the offsets of ${topic}`))
  if (ranges === undefined) return undefined
  if (ranges.size === 0) return 0
  const open = new Set(ranges.keys())
  let read = 0
  let settle: (error?: unknown) => void = () => undefined
  const finished = new Promise<void>((resolve, reject) => (settle = (error) => (error === undefined ? resolve() : reject(error))))
  // A group of its own that commits nothing: it reads, it never moves anyone's offsets.
  let stopped = false
  const { consumer, rethrow } = createReader(kafka, config, 'replay', topic, (error) => {
    stopped = true
    settle(error)
  })
  let lastProgress = Date.now()
  const idleMs = options.idleMs ?? 60_000
  const watchdog = setInterval(() => {
    if (Date.now() - lastProgress < idleMs) return
    const where = [...open].map((p) => `partition ${p} (to offset ${ranges.get(p)!.end})`).join(', ')
    settle(new Error(`reading ${topic}: nothing arrived for ${Math.round(idleMs / 1000)} s from ${where}`))
  }, 1_000)
  try {
    await consumer.connect().catch(rethrow)
    await consumer.subscribe({ topics: [topic] }).catch(rethrow)
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      eachBatch: async ({ batch, resolveOffset, isRunning, isStale }) => {
        const span = ranges.get(batch.partition)
        if (span === undefined || !open.has(batch.partition)) return
        for (const message of batch.messages) {
          if (!isRunning() || isStale()) return
          const offset = BigInt(message.offset)
          if (offset < span.start) continue
          if (offset >= span.end) break
          try {
            await each({ topic, partition: batch.partition, offset: message.offset, timestamp: Number(message.timestamp), key: message.key, value: message.value, headers: message.headers ?? {} })
          } catch (error) {
            settle(error)
            return
          }
          read++
          lastProgress = Date.now()
          resolveOffset(message.offset)
        }
        // The batch may end on a gap (a control record): its last offset says how far the partition went.
        if (BigInt(batch.lastOffset()) + 1n >= span.end) {
          open.delete(batch.partition)
          if (open.size === 0) settle()
        }
      },
    })
    // A consumer that stopped for good as it started (an ACL on its group) has said why; seeking would only fail too.
    if (!stopped) for (const [partition, span] of ranges) consumer.seek({ topic, partition, offset: span.start.toString() })
    await finished
    return read
  } finally {
    clearInterval(watchdog)
    await consumer.disconnect()
  }
}
