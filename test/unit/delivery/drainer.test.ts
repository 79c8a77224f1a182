// The drainer: replays the spool in order, acks only what was delivered, backs off, sets aside what Kafka refuses, moves held topics aside, stops.
import { afterEach, describe, expect, it, vi } from 'vitest'
import { createDrainer, type Drainer, type DrainerOptions } from '../../../src/delivery/drainer.js'
import type { SpoolEntry } from '../../../src/delivery/spool/frame.js'
import { createSpool, type Spool, type SpoolBatch } from '../../../src/delivery/spool/spool.js'
import { BridgeError, ErrorCodes } from '../../../src/errors.js'
import { capturingLogger, entry, ids, idsOf, silent, tempDirs } from './spool-fixtures.js'

const dirs = tempDirs()
const cleanups: (() => Promise<void>)[] = []

afterEach(async () => {
  vi.useRealTimers()
  for (const c of cleanups.splice(0).reverse()) await c()
  await dirs.cleanup()
})

const retriable = (): BridgeError => new BridgeError(ErrorCodes.KAFKA_UNAVAILABLE, 'broker away', { retriable: true })
const final = (): BridgeError => new BridgeError(ErrorCodes.KAFKA_REJECTED, 'record too large')

/** An in-memory spool with the real one's read/ack contract, and a log of the calls made on it. */
function memorySpool(initial: SpoolEntry[], options: { yieldOnRead?: boolean } = {}) {
  const queue = [...initial]
  const calls: string[] = []
  let epoch = 0
  const spool: Spool = {
    async open() {},
    async append(e) {
      queue.push(e)
    },
    get entries() {
      return queue.length
    },
    get bytes() {
      return queue.length * 100
    },
    get usedBytes() {
      return queue.length * 100
    },
    async read(maxRecords) {
      calls.push(`read ${maxRecords}`)
      // Like the real spool's disk read: the event loop turns (without it a loop that never waits would hang the test).
      if (options.yieldOnRead === true) await new Promise((resolve) => setImmediate(resolve))
      if (queue.length === 0) return undefined
      const entries: SpoolEntry[] = []
      let records = 0
      for (const e of queue) {
        if (entries.length > 0 && records + e.records.length > maxRecords) break
        entries.push(e)
        records += e.records.length
      }
      return { entries, records, bytes: entries.length * 100, end: { seq: epoch, offset: entries.length } }
    },
    async ack(batch: SpoolBatch) {
      calls.push(`ack ${idsOf(batch.entries).join(',')}`)
      queue.splice(0, batch.end.offset)
      epoch++
    },
    async oldestReceivedAt() {
      return queue[0]?.receivedAt
    },
    pendingOf: (topic) => queue.reduce((n, e) => n + e.records.filter((r) => r.topic === topic).length, 0),
    async close() {},
  }
  return { spool, calls, queue }
}

function drainer(options: Partial<DrainerOptions> & Pick<DrainerOptions, 'spool' | 'send'>): Drainer {
  const d = createDrainer({
    setAside: async () => undefined,
    onEmpty: () => undefined,
    logger: silent(),
    maxBatchRecords: 10,
    minBackoffMs: 1,
    maxBackoffMs: 4,
    ...options,
  })
  cleanups.push(() => d.stop(1_000))
  return d
}

/** Resolves when `check` holds, polling on real timers (for loops driven by real disk I/O). */
async function until(check: () => boolean, what: string, ms = 5_000): Promise<void> {
  const deadline = Date.now() + ms
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 1))
  }
}

async function realSpool(count: number): Promise<Spool> {
  const spool = createSpool({ dir: await dirs.make('drainer-'), maxBytes: 1 << 24, logger: silent(), segmentBytes: 2_000 })
  await spool.open()
  cleanups.push(() => spool.close())
  for (let n = 0; n < count; n++) await spool.append(entry(n))
  return spool
}

describe('drainer', () => {
  it('replays a real spool in order, in batches of maxBatchRecords, acks each and says when it is empty', async () => {
    const spool = await realSpool(25)
    const sent: string[][] = []
    const replayed: number[] = []
    let empty = 0
    const d = drainer({
      spool,
      send: async (entries) => {
        // Not acked before the send resolved.
        expect(spool.entries).toBe(25 - sent.flat().length)
        sent.push(idsOf(entries))
      },
      onEmpty: () => empty++,
      onReplayed: (records) => replayed.push(records),
      maxBatchRecords: 10,
    })
    d.kick()
    expect(d.running).toBe(true)
    await until(() => empty > 0, 'onEmpty')
    expect(sent.flat()).toEqual(ids(0, 25))
    for (const batch of sent) expect(batch.length).toBeLessThanOrEqual(10)
    expect(replayed.reduce((a, b) => a + b, 0)).toBe(25)
    expect(replayed).toEqual(sent.map((b) => b.length))
    expect(spool.entries).toBe(0)
    expect(empty).toBe(1)
    await until(() => !d.running, 'the loop to end')
    expect(await spool.read(10)).toBeUndefined()
  })

  it('also replays what is spooled while it runs, before saying it is empty', async () => {
    const spool = await realSpool(5)
    const sent: string[] = []
    let empty = 0
    let next = 5
    const d = drainer({
      spool,
      send: async (entries) => {
        sent.push(...idsOf(entries))
        // A request spooled meanwhile, until 12 entries in all.
        if (next < 12) await spool.append(entry(next++))
      },
      onEmpty: () => {
        empty++
        expect(spool.entries).toBe(0)
      },
      maxBatchRecords: 2,
    })
    d.kick()
    await until(() => empty > 0, 'onEmpty')
    expect(sent).toEqual(ids(0, 12))
  })

  it('on a retriable error backs off (doubling, capped) and retries the same batch without acking it', async () => {
    vi.useFakeTimers()
    const { spool, calls } = memorySpool([entry(0), entry(1), entry(2)])
    const attempts: string[][] = []
    let failuresLeft = 4
    const { logger, lines } = capturingLogger()
    let empty = 0
    const d = drainer({
      spool,
      logger,
      send: async (entries) => {
        attempts.push(idsOf(entries))
        if (failuresLeft-- > 0) throw retriable()
      },
      onEmpty: () => empty++,
      minBackoffMs: 10,
      maxBackoffMs: 40,
    })
    d.kick()
    await vi.advanceTimersByTimeAsync(0)
    expect(attempts).toHaveLength(1)
    // Backoffs 10, 20, 40, 40: retries at t = 10, 30, 70, 110.
    const at = async (ms: number, count: number) => {
      await vi.advanceTimersByTimeAsync(ms)
      expect(attempts, `after ${ms} more ms`).toHaveLength(count)
    }
    await at(9, 1)
    await at(1, 2)
    await at(19, 2)
    await at(1, 3)
    await at(39, 3)
    await at(1, 4)
    await at(39, 4)
    await at(1, 5)
    for (const a of attempts) expect(a).toEqual(['e-0', 'e-1', 'e-2'])
    expect(calls.filter((c) => c.startsWith('ack'))).toEqual(['ack e-0,e-1,e-2'])
    expect(empty).toBe(1)
    // One warning for the outage, not one per attempt; and one line when it is over.
    expect(lines.filter((l) => l['msg'] === 'replaying the spool failed; retrying with backoff')).toHaveLength(1)
    expect(lines.filter((l) => l['msg'] === 'spool drained')).toHaveLength(1)
  })

  it('sets aside only the record Kafka refuses for good, delivers the rest of its batch in order, and goes on', async () => {
    const spool = await realSpool(6)
    const setAside: { ids: string[]; error: unknown }[] = []
    const sent: string[] = []
    let empty = 0
    const refusal = final()
    const d = drainer({
      spool,
      maxBatchRecords: 2,
      send: async (entries) => {
        if (idsOf(entries).includes('e-2')) throw refusal
        sent.push(...idsOf(entries))
      },
      setAside: async (entries, error) => {
        // Kept before the spool lets go of them.
        expect(spool.entries).toBe(4)
        setAside.push({ ids: idsOf(entries), error })
      },
      onEmpty: () => empty++,
    })
    d.kick()
    await until(() => empty > 0, 'onEmpty')
    expect(setAside).toEqual([{ ids: ['e-2'], error: refusal }])
    expect(sent).toEqual(['e-0', 'e-1', 'e-3', 'e-4', 'e-5'])
    expect(spool.entries).toBe(0)
  })

  it('finds two refused records among 20,000 by halving, keeps each with its entry\'s time, and sends the others in order', async () => {
    // One Servio batch (an entry of many records) and single events around it, all in one replay batch.
    const big: SpoolEntry = { receivedAt: 42, records: Array.from({ length: 19_990 }, (_, i) => ({ ...entry(100 + i).records[0]!, headers: { event_id: `s-${i}` } })) }
    const initial = [...Array.from({ length: 5 }, (_, i) => entry(i)), big, ...Array.from({ length: 5 }, (_, i) => entry(5 + i))]
    const { spool } = memorySpool(initial)
    const bad = new Set(['s-7000', 'e-8'])
    const delivered: string[] = []
    let calls = 0
    const setAside: SpoolEntry[][] = []
    let empty = 0
    const d = drainer({
      spool,
      maxBatchRecords: 20_000,
      send: async (entries) => {
        calls++
        const batch = idsOf(entries)
        if (batch.some((id) => bad.has(id))) throw final()
        delivered.push(...batch)
      },
      setAside: async (entries) => void setAside.push(entries),
      onEmpty: () => empty++,
    })
    d.kick()
    await until(() => empty > 0, 'onEmpty')
    const all = idsOf(initial)
    expect(delivered).toEqual(all.filter((id) => !bad.has(id)))
    expect(setAside).toHaveLength(1)
    expect(idsOf(setAside[0]!)).toEqual(['s-7000', 'e-8'])
    expect(setAside[0]!.map((e) => e.receivedAt)).toEqual([42, entry(8).receivedAt])
    // Halving, not record by record: about 2 × 2 × log2(20,000) calls.
    expect(calls).toBeLessThan(80)
  })

  it('stops halving on an outage and retries the whole batch later: nothing set aside, nothing lost', async () => {
    const spool = await realSpool(4)
    const setAside = vi.fn(async () => undefined)
    const delivered: string[] = []
    let outages = 1
    let empty = 0
    const d = drainer({
      spool,
      maxBatchRecords: 4,
      send: async (entries) => {
        const batch = idsOf(entries)
        if (batch.length === 4 && outages >= 0) throw final()
        // The first half goes through, then Kafka goes away while the second is sent.
        if (batch.includes('e-2') && outages-- > 0) throw retriable()
        delivered.push(...batch)
      },
      setAside,
      onEmpty: () => empty++,
    })
    d.kick()
    await until(() => empty > 0, 'onEmpty')
    // Refused whole again on the retry, but each half fits (a batch too large only in total): nothing set aside.
    expect(setAside).not.toHaveBeenCalled()
    // The first half twice (at-least-once), every record at least once.
    expect(delivered).toEqual(['e-0', 'e-1', 'e-0', 'e-1', 'e-2', 'e-3'])
  })

  it('in a held lane (no divert): waits on a refusal only an operator can fix, reports each one, and flows again once it is fixed', async () => {
    const spool = await realSpool(3)
    const setAside = vi.fn(async () => undefined)
    const sent: string[] = []
    const reported: unknown[] = []
    let refusals = 0
    let empty = 0
    const denied = new BridgeError(ErrorCodes.KAFKA_UNAUTHORIZED, 'Kafka denied producing (TOPIC_AUTHORIZATION_FAILED)')
    const incompatible = new BridgeError(ErrorCodes.REGISTRY_REJECTED, 'incompatible with the subject')
    const d = drainer({
      spool,
      classify: (error) => (error === denied || error === incompatible ? { kind: 'blocked' } : { kind: 'final' }),
      onBlocked: (error) => reported.push(error),
      send: async (entries) => {
        if (refusals < 4) throw ++refusals <= 2 ? denied : incompatible
        sent.push(...idsOf(entries))
      },
      setAside,
      onEmpty: () => empty++,
    })
    d.kick()
    await until(() => empty > 0, 'onEmpty')
    expect(setAside).not.toHaveBeenCalled()
    expect(sent).toEqual(['e-0', 'e-1', 'e-2'])
    // Each refusal reported (the holds say it once per reason), then one undefined per batch that went through.
    expect(reported.slice(0, 4)).toEqual([denied, denied, incompatible, incompatible])
    expect(reported.slice(4).every((r) => r === undefined)).toBe(true)
  })

  it('with a divert: moves a held topic\'s records to its lane, in order, delivers every other topic, and acks the batch', async () => {
    const topicOf = (n: number): string => (n % 2 === 0 ? 'dv2000.hospitality' : 'servio.guests')
    const initial = Array.from({ length: 6 }, (_, n) => ({ ...entry(n), records: [{ ...entry(n).records[0]!, topic: topicOf(n) }] }))
    const { spool, calls } = memorySpool(initial)
    const denied = new BridgeError(ErrorCodes.KAFKA_UNAUTHORIZED, 'Kafka denied producing to servio.guests (TOPIC_AUTHORIZATION_FAILED)')
    const held = new Set<string>()
    const moved: { topic: string; ids: string[] }[] = []
    const sent: string[][] = []
    let empty = 0
    const d = drainer({
      spool,
      maxBatchRecords: 4,
      classify: (error) => (error === denied ? { kind: 'blocked' } : { kind: 'retry' }),
      divert: {
        wants: (topic) => held.has(topic),
        hold: async (topic, error) => (error === denied ? (held.add(topic), true) : false),
        move: async (topic, entries) => void moved.push({ topic, ids: idsOf(entries) }),
      },
      send: async (entries) => {
        if (entries.some((e) => e.records.some((r) => r.topic === 'servio.guests'))) throw denied
        sent.push(idsOf(entries))
      },
      onEmpty: () => empty++,
    })
    d.kick()
    await until(() => empty > 0, 'onEmpty')
    // First batch (e-0..e-3): refused whole, split by topic: hospitality delivered, guests held and moved.
    // Second batch (e-4, e-5): guests is held already, so e-5 is moved without a produce call.
    expect(sent).toEqual([['e-0', 'e-2'], ['e-4']])
    expect(moved).toEqual([
      { topic: 'servio.guests', ids: ['e-1', 'e-3'] },
      { topic: 'servio.guests', ids: ['e-5'] },
    ])
    expect(calls.filter((c) => c.startsWith('ack'))).toEqual(['ack e-0,e-1,e-2,e-3', 'ack e-4,e-5'])
  })

  it('with a divert: leaves the batch in the spool when a lane cannot take its records (a full disk), and retries it', async () => {
    const { spool, calls } = memorySpool([entry(0)])
    let moveFails = 1
    const moved: string[] = []
    let empty = 0
    const d = drainer({
      spool,
      divert: {
        wants: () => true,
        hold: async () => true,
        move: async (_topic, entries) => {
          if (moveFails-- > 0) throw Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' })
          moved.push(...idsOf(entries))
        },
      },
      send: async () => undefined,
      onEmpty: () => empty++,
    })
    d.kick()
    await until(() => empty > 0, 'onEmpty')
    expect(moved).toEqual(['e-0'])
    expect(calls.filter((c) => c.startsWith('ack'))).toEqual(['ack e-0'])
  })

  it('calls onEmpty at once (synchronously with the check) on an empty spool, and ends', async () => {
    const { spool, calls } = memorySpool([])
    const send = vi.fn(async () => undefined)
    let empty = 0
    const d = drainer({ spool, send, onEmpty: () => empty++ })
    d.kick()
    expect(empty).toBe(1)
    await until(() => !d.running, 'the loop to end')
    expect(send).not.toHaveBeenCalled()
    expect(calls).toEqual([])
  })

  it('runs one loop only: kick() while running does not start a second', async () => {
    const { spool, calls } = memorySpool([entry(0), entry(1)])
    const pending: (() => void)[] = []
    const send = vi.fn((_entries: SpoolEntry[]) => new Promise<void>((resolve) => pending.push(resolve)))
    let empty = 0
    const d = drainer({ spool, send, maxBatchRecords: 1, onEmpty: () => empty++ })
    d.kick()
    await until(() => send.mock.calls.length === 1, 'the first send')
    // A second loop would start, and read, synchronously within kick().
    for (let i = 0; i < 5; i++) d.kick()
    expect(send).toHaveBeenCalledTimes(1)
    expect(calls.filter((c) => c.startsWith('read'))).toHaveLength(1)
    pending.shift()!()
    await until(() => send.mock.calls.length === 2, 'the second send')
    d.kick()
    pending.shift()!()
    await until(() => empty > 0, 'onEmpty')
    expect(send.mock.calls.map(([e]) => idsOf(e))).toEqual([['e-0'], ['e-1']])
    expect(empty).toBe(1)
  })

  it('stop() ends a loop that is backing off at once, without another attempt; kick() after stop does nothing', async () => {
    const { spool, calls } = memorySpool([entry(0)])
    const send = vi.fn(async () => {
      throw retriable()
    })
    let empty = 0
    const d = drainer({ spool, send, minBackoffMs: 60_000, maxBackoffMs: 60_000, onEmpty: () => empty++ })
    d.kick()
    await until(() => send.mock.calls.length === 1, 'the first attempt')
    // Had stop() waited for the 60 s backoff, the loop would still be running when the 20 s wait gave up.
    await d.stop(20_000)
    expect(d.running).toBe(false)
    // With no loop running, no timer of its own is left to make another attempt.
    d.kick()
    expect(d.running).toBe(false)
    expect(send).toHaveBeenCalledTimes(1)
    expect(calls.filter((c) => c.startsWith('ack'))).toEqual([])
    expect(empty).toBe(0)
    expect(spool.entries).toBe(1)
  })

  it('stop() waits for the batch in flight at most waitMs, and acks nothing after it', async () => {
    const { spool, calls } = memorySpool([entry(0), entry(1)])
    let finish: () => void = () => undefined
    const send = vi.fn(() => new Promise<void>((resolve) => (finish = resolve)))
    const d = drainer({ spool, send, maxBatchRecords: 1 })
    d.kick()
    await until(() => send.mock.calls.length === 1, 'the first send')
    await d.stop(20)
    finish()
    // The batch in flight is acked when it completes; nothing is read or sent after it.
    await until(() => calls.includes('ack e-0'), 'the ack of the batch in flight')
    await until(() => !d.running, 'the loop to end')
    expect(send).toHaveBeenCalledTimes(1)
    expect(calls).toEqual(['read 1', 'ack e-0'])
    expect(spool.entries).toBe(1)
  })

  it('backs off, rather than spinning, when reading the spool fails (a damaged segment)', async () => {
    const { spool } = memorySpool([entry(0)])
    let reads = 0
    spool.read = async () => {
      reads++
      // Like the real spool: disk I/O, then a refusal.
      await new Promise((resolve) => setImmediate(resolve))
      throw new BridgeError(ErrorCodes.SPOOL_FAILED, 'spool segment 1.seg is corrupt at 0: checksum mismatch')
    }
    const { logger, lines } = capturingLogger()
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] })
    const d = drainer({ spool, send: async () => undefined, logger, minBackoffMs: 20, maxBackoffMs: 50 })
    d.kick()
    // 100 ms of the drainer's clock: backing off 20, 40, 50 ms allows 3 reads; spinning would allow any number.
    await vi.advanceTimersByTimeAsync(100)
    const stopped = d.stop(100)
    await vi.advanceTimersByTimeAsync(100)
    await stopped
    const errors = lines.filter((l) => l['level'] === 'error').length
    expect(reads, `spool reads in 100 ms of backoff (${errors} error lines logged)`).toBeLessThanOrEqual(4)
  })

  it('backs off, rather than re-sending at once, when setting a refused batch aside fails (disk full)', async () => {
    const { spool } = memorySpool([entry(0)], { yieldOnRead: true })
    const send = vi.fn(async () => {
      throw final()
    })
    const setAside = vi.fn(async () => {
      throw Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' })
    })
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] })
    const d = drainer({ spool, send, setAside, minBackoffMs: 20, maxBackoffMs: 50 })
    d.kick()
    await vi.advanceTimersByTimeAsync(100)
    const stopped = d.stop(100)
    await vi.advanceTimersByTimeAsync(100)
    await stopped
    expect(spool.entries).toBe(1)
    expect(send.mock.calls.length, 'produce calls of the same refused batch in 100 ms of backoff').toBeLessThanOrEqual(4)
  })
})
