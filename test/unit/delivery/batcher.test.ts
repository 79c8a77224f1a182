// The batcher: concurrent requests share one produce call; one call in flight; order, failures and flush.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createBatcher, type BatcherOptions } from '../../../src/delivery/batcher.js'
import type { OutboundRecord } from '../../../src/delivery/types.js'

function record(key: string): OutboundRecord {
  return { topic: 'dv2000.hospitality', key, value: Buffer.from(key), headers: { event_id: key } }
}

interface Call {
  records: OutboundRecord[]
  resolve: () => void
  reject: (error: unknown) => void
}

/** A send whose calls the test settles by hand, so "in flight" lasts as long as the test wants. */
function manualSend() {
  const calls: Call[] = []
  const send = vi.fn((records: OutboundRecord[]) => new Promise<void>((resolve, reject) => calls.push({ records, resolve, reject })))
  const keys = (i: number): string[] => calls[i]!.records.map((r) => r.key)
  return { calls, send, keys }
}

/** Tracks a promise's outcome without awaiting it. */
function settled(promise: Promise<void>) {
  const state: { status: 'pending' | 'resolved' | 'rejected'; error?: unknown } = { status: 'pending' }
  promise.then(
    () => {
      state.status = 'resolved'
    },
    (error: unknown) => {
      state.status = 'rejected'
      state.error = error
    },
  )
  return state
}

const flushMicrotasks = async (): Promise<void> => {
  for (let i = 0; i < 10; i++) await Promise.resolve()
}

beforeEach(() => {
  vi.useFakeTimers()
})
afterEach(() => {
  vi.useRealTimers()
})

function batcher(send: BatcherOptions['send'], options: Partial<BatcherOptions> = {}) {
  return createBatcher({ send, lingerMs: 5, maxBatchRecords: 100, ...options })
}

describe('createBatcher', () => {
  it('sends concurrent requests that arrive within the linger as ONE call, in submission order', async () => {
    const { calls, send, keys } = manualSend()
    const b = batcher(send)
    const a = settled(b.deliver([record('a1'), record('a2')]))
    const c = settled(b.deliver([record('b1')]))
    await vi.advanceTimersByTimeAsync(3)
    const d = settled(b.deliver([record('c1')]))
    expect(send).not.toHaveBeenCalled()
    expect(b.queuedRecords).toBe(4)

    await vi.advanceTimersByTimeAsync(2)
    expect(send).toHaveBeenCalledTimes(1)
    expect(keys(0)).toEqual(['a1', 'a2', 'b1', 'c1'])
    expect(b.queuedRecords).toBe(0)
    expect([a.status, c.status, d.status]).toEqual(['pending', 'pending', 'pending'])

    calls[0]!.resolve()
    await flushMicrotasks()
    expect([a.status, c.status, d.status]).toEqual(['resolved', 'resolved', 'resolved'])
  })

  it('queues what arrives while a call is in flight and sends it next, at once and in order', async () => {
    const { calls, send, keys } = manualSend()
    const b = batcher(send)
    const first = settled(b.deliver([record('k1')]))
    await vi.advanceTimersByTimeAsync(5)
    expect(send).toHaveBeenCalledTimes(1)

    const second = settled(b.deliver([record('k2')]))
    const third = settled(b.deliver([record('k3'), record('k4')]))
    await vi.advanceTimersByTimeAsync(50)
    // One call at a time, however long the first takes: that is what keeps per-key order.
    expect(send).toHaveBeenCalledTimes(1)
    expect(b.queuedRecords).toBe(3)

    calls[0]!.resolve()
    await flushMicrotasks()
    expect(first.status).toBe('resolved')
    expect([second.status, third.status]).toEqual(['pending', 'pending'])
    // No second linger: the queued records went out as soon as the first call ended.
    expect(send).toHaveBeenCalledTimes(2)
    expect(keys(1)).toEqual(['k2', 'k3', 'k4'])

    calls[1]!.resolve()
    await flushMicrotasks()
    expect([second.status, third.status]).toEqual(['resolved', 'resolved'])
  })

  it('rejects the requests of the failed call and every request queued behind it, in order, and then carries on', async () => {
    const { calls, send, keys } = manualSend()
    const onBatch = vi.fn()
    const b = batcher(send, { onBatch })
    const order: string[] = []
    const track = (name: string, p: Promise<void>) => {
      p.catch(() => order.push(name))
      return settled(p)
    }
    const failed1 = track('f1', b.deliver([record('f1')]))
    const failed2 = track('f2', b.deliver([record('f2')]))
    await vi.advanceTimersByTimeAsync(5)
    // Queued behind the failing call: it must take the same fallback (the spool), after f1 and f2.
    const behind = track('q1', b.deliver([record('q1')]))

    const error = new Error('broker gone')
    calls[0]!.reject(error)
    await flushMicrotasks()
    expect(failed1).toEqual({ status: 'rejected', error })
    expect(failed2).toEqual({ status: 'rejected', error })
    expect(behind).toEqual({ status: 'rejected', error })
    expect(order).toEqual(['f1', 'f2', 'q1'])
    expect(calls).toHaveLength(1)
    expect(b.queuedRecords).toBe(0)

    const later = settled(b.deliver([record('ok1')]))
    await vi.advanceTimersByTimeAsync(5)
    expect(keys(1)).toEqual(['ok1'])
    calls[1]!.resolve()
    await flushMicrotasks()
    expect(later.status).toBe('resolved')
    expect(onBatch).toHaveBeenCalledTimes(2)
    expect(onBatch.mock.calls[0]![0]).toHaveLength(2)
    expect(onBatch.mock.calls[0]![2]).toBe(error)
    expect(onBatch.mock.calls[1]![0]).toHaveLength(1)
    expect(onBatch.mock.calls[1]![2]).toBeUndefined()
  })

  it('after a refusal (not an outage) rejects only the queued requests that share a topic with the refused call; the others go next', async () => {
    const { calls, send, keys } = manualSend()
    const b = batcher(send)
    const on = (topic: string, key: string): OutboundRecord => ({ ...record(key), topic })
    const refused = settled(b.deliver([on('servio.guests', 'g1')]))
    await vi.advanceTimersByTimeAsync(5)
    const sameTopic = settled(b.deliver([on('dv2000.hospitality', 'r1'), on('servio.guests', 'g2')]))
    const otherTopic = settled(b.deliver([on('dv2000.hospitality', 'r2')]))
    const denied = Object.assign(new Error('TOPIC_AUTHORIZATION_FAILED'), { retriable: false })
    calls[0]!.reject(denied)
    await flushMicrotasks()
    expect([refused.status, sameTopic.status, otherTopic.status]).toEqual(['rejected', 'rejected', 'pending'])
    // Not held up by another topic's refusal: sent at once.
    expect(keys(1)).toEqual(['r2'])
    calls[1]!.resolve()
    await flushMicrotasks()
    expect(otherTopic.status).toBe('resolved')

    // An outage (retriable) takes everything queued behind it into the same fallback.
    const first = settled(b.deliver([on('servio.guests', 'g3')]))
    await vi.advanceTimersByTimeAsync(5)
    const queued = settled(b.deliver([on('dv2000.hospitality', 'r3')]))
    calls[2]!.reject(Object.assign(new Error('broker away'), { retriable: true }))
    await flushMicrotasks()
    expect([first.status, queued.status]).toEqual(['rejected', 'rejected'])
    expect(calls).toHaveLength(3)
  })

  describe('a retriable failure, sent again whole while the retry window lasts', () => {
    const transient = Object.assign(new Error('not the leader'), { retriable: true })
    const retrying = (send: BatcherOptions['send'], options: Partial<BatcherOptions> = {}) =>
      batcher(send, { retryWindowMs: 2_500, retriable: (e) => (e as { retriable?: boolean }).retriable === true, now: () => Date.now(), ...options })

    it('resends the same records, in the same order, and resolves the requests once a resend is acknowledged', async () => {
      const { calls, send, keys } = manualSend()
      const onBatch = vi.fn()
      const b = retrying(send, { onBatch })
      const a = settled(b.deliver([record('a1'), record('a2')]))
      const c = settled(b.deliver([record('c1')]))
      await vi.advanceTimersByTimeAsync(5)
      const behind = settled(b.deliver([record('q1')]))
      calls[0]!.reject(transient)
      await flushMicrotasks()
      expect(calls).toHaveLength(1)
      await vi.advanceTimersByTimeAsync(25)
      expect(calls).toHaveLength(2)
      calls[1]!.reject(transient)
      await vi.advanceTimersByTimeAsync(50)
      expect(calls).toHaveLength(3)
      expect([keys(0), keys(1), keys(2)]).toEqual([
        ['a1', 'a2', 'c1'],
        ['a1', 'a2', 'c1'],
        ['a1', 'a2', 'c1'],
      ])
      // What queued meanwhile waits behind the call being retried: it never overtakes it.
      expect(behind.status).toBe('pending')
      calls[2]!.resolve()
      await flushMicrotasks()
      expect([a.status, c.status]).toEqual(['resolved', 'resolved'])
      expect(keys(3)).toEqual(['q1'])
      calls[3]!.resolve()
      await flushMicrotasks()
      expect(behind.status).toBe('resolved')
      expect(onBatch.mock.calls.map((call) => call[2])).toEqual([transient, transient, undefined, undefined])
    })

    it('fails at once on an error that is not retriable', async () => {
      const { calls, send } = manualSend()
      const b = retrying(send)
      const a = settled(b.deliver([record('a')]))
      await vi.advanceTimersByTimeAsync(5)
      const final = new Error('record too large')
      calls[0]!.reject(final)
      await flushMicrotasks()
      expect(a).toEqual({ status: 'rejected', error: final })
      await vi.advanceTimersByTimeAsync(5_000)
      expect(calls).toHaveLength(1)
    })

    it('gives up when the next resend would start after the window, failing the call and what queued behind it', async () => {
      const { calls, send } = manualSend()
      const b = retrying(send, { retryWindowMs: 1_000 })
      const a = settled(b.deliver([record('a')]))
      await vi.advanceTimersByTimeAsync(5)
      const behind = settled(b.deliver([record('q')]))
      // Each attempt fails as soon as it is made.
      let answered = 0
      for (let i = 0; a.status === 'pending'; i++) {
        expect(i).toBeLessThan(1_000)
        if (calls.length > answered) calls[answered++]!.reject(transient)
        await vi.advanceTimersByTimeAsync(5)
      }
      expect(a).toEqual({ status: 'rejected', error: transient })
      expect(behind).toEqual({ status: 'rejected', error: transient })
      // 25 + 50 + 100 + 200 + 400 ms of pauses fit in the second; the next (500 ms) would not.
      expect(calls).toHaveLength(6)
    })

    it('never resends without a window (the default)', async () => {
      const { calls, send } = manualSend()
      const b = batcher(send, { retriable: () => true })
      const a = settled(b.deliver([record('a')]))
      await vi.advanceTimersByTimeAsync(5)
      calls[0]!.reject(transient)
      await vi.advanceTimersByTimeAsync(5_000)
      expect(a.status).toBe('rejected')
      expect(calls).toHaveLength(1)
    })
  })

  it('splits what queued up into calls of at most maxBatchRecords, a large request over several calls, in order', async () => {
    const { calls, send, keys } = manualSend()
    const b = batcher(send, { maxBatchRecords: 3 })
    b.deliver([record('r1')]).catch(() => undefined)
    await vi.advanceTimersByTimeAsync(5)
    const waiting = ['a', 'b', 'c', 'd', 'e'].map((k) => settled(b.deliver([record(k)])))
    const big = settled(b.deliver([record('x1'), record('x2'), record('x3'), record('x4')]))
    const tail = settled(b.deliver([record('z')]))

    const sent: string[][] = []
    for (let i = 0; i < 5; i++) {
      calls[i]!.resolve()
      await flushMicrotasks()
      if (calls.length > i + 1) sent.push(keys(i + 1))
      // The large request is acknowledged only once its last record is.
      if (i === 2) expect(big.status).toBe('pending')
    }
    expect(sent).toEqual([['a', 'b', 'c'], ['d', 'e', 'x1'], ['x2', 'x3', 'x4'], ['z']])
    expect(waiting.map((w) => w.status)).toEqual(['resolved', 'resolved', 'resolved', 'resolved', 'resolved'])
    expect(big.status).toBe('resolved')
    expect(tail.status).toBe('resolved')
  })

  it('caps a call by bytes, so no partition batch exceeds what Kafka accepts; a single larger record still goes alone', async () => {
    const { calls, send, keys } = manualSend()
    const b = batcher(send, { maxBatchBytes: 1_000 })
    const sized = (key: string, bytes: number): OutboundRecord => ({ topic: 't', key, value: Buffer.alloc(bytes), headers: {} })
    const one = settled(b.deliver([sized('a', 400), sized('b', 400), sized('c', 400), sized('huge', 5_000), sized('d', 10)]))
    await vi.advanceTimersByTimeAsync(5)
    for (let i = 0; i < 3; i++) {
      expect(one.status).toBe('pending')
      calls[i]!.resolve()
      await flushMicrotasks()
    }
    expect([keys(0), keys(1), keys(2)]).toEqual([['a', 'b'], ['c'], ['huge']])
    calls[3]!.resolve()
    await flushMicrotasks()
    expect(keys(3)).toEqual(['d'])
    expect(one.status).toBe('resolved')
  })

  it('sends at once, without lingering, when maxBatchRecords are queued', async () => {
    const { send, keys } = manualSend()
    const b = batcher(send, { maxBatchRecords: 2, lingerMs: 1000 })
    void b.deliver([record('a')])
    expect(send).not.toHaveBeenCalled()
    void b.deliver([record('b')])
    expect(send).toHaveBeenCalledTimes(1)
    expect(keys(0)).toEqual(['a', 'b'])
    await vi.advanceTimersByTimeAsync(1000)
    expect(send).toHaveBeenCalledTimes(1)
  })

  it('batches naturally with lingerMs 0: a record goes at once when nothing is in flight; what arrives meanwhile is the next call', async () => {
    const { calls, send, keys } = manualSend()
    const b = batcher(send, { lingerMs: 0 })
    const first = settled(b.deliver([record('a')]))
    // No timer involved: the call is made within deliver().
    expect(keys(0)).toEqual(['a'])
    const behind = [settled(b.deliver([record('b')])), settled(b.deliver([record('c'), record('d')]))]
    expect(calls).toHaveLength(1)
    calls[0]!.resolve()
    await flushMicrotasks()
    expect(first.status).toBe('resolved')
    expect(calls).toHaveLength(2)
    expect(keys(1)).toEqual(['b', 'c', 'd'])
    calls[1]!.resolve()
    await flushMicrotasks()
    expect(behind.map((x) => x.status)).toEqual(['resolved', 'resolved'])
  })

  it('sends at once with lingerMs 0, and never for an empty request', async () => {
    const { send } = manualSend()
    const b = batcher(send, { lingerMs: 0 })
    await expect(b.deliver([])).resolves.toBeUndefined()
    expect(send).not.toHaveBeenCalled()
    void b.deliver([record('now')])
    expect(send).toHaveBeenCalledTimes(1)
  })

  it('flush sends what is lingering without waiting for the timer, and resolves only when every call settled', async () => {
    const { calls, send, keys } = manualSend()
    const b = batcher(send, { lingerMs: 1000 })
    const first = settled(b.deliver([record('a')]))
    const flushed = settled(b.flush())
    expect(send).toHaveBeenCalledTimes(1)
    const queuedBehind = settled(b.deliver([record('b')]))

    await flushMicrotasks()
    expect(flushed.status).toBe('pending')
    calls[0]!.resolve()
    await flushMicrotasks()
    expect(first.status).toBe('resolved')
    expect(flushed.status).toBe('pending')
    expect(keys(1)).toEqual(['b'])
    // flush does not fail because a call did.
    calls[1]!.reject(new Error('timeout'))
    await flushMicrotasks()
    expect(queuedBehind.status).toBe('rejected')
    expect(flushed.status).toBe('resolved')
    expect(b.queuedRecords).toBe(0)
  })

  it('flush with nothing queued resolves at once', async () => {
    const { send } = manualSend()
    await expect(batcher(send).flush()).resolves.toBeUndefined()
    expect(send).not.toHaveBeenCalled()
  })

  it('lets a small request for another topic pass a large one: it goes in the next call, not after the large one', async () => {
    const { calls, send } = manualSend()
    const b = batcher(send, { maxBatchRecords: 3 })
    const on = (topic: string, key: string): OutboundRecord => ({ topic, key, value: Buffer.from(key), headers: {} })
    b.deliver([on('x', 'r1')]).catch(() => undefined)
    await vi.advanceTimersByTimeAsync(5)
    const big = settled(b.deliver(['g1', 'g2', 'g3', 'g4', 'g5', 'g6', 'g7'].map((k) => on('guests', k))))
    const sameTopic = settled(b.deliver([on('guests', 'later')]))
    const other = settled(b.deliver([on('hospitality', 'h1')]))
    const sent = (i: number): string[] => calls[i]!.records.map((r) => r.key)
    calls[0]!.resolve()
    await flushMicrotasks()
    // The other topic's request goes first in the next call; the same topic's waits for the large one.
    expect(sent(1)).toEqual(['h1', 'g1', 'g2'])
    calls[1]!.resolve()
    await flushMicrotasks()
    expect(other.status).toBe('resolved')
    expect(big.status).toBe('pending')
    calls[2]!.resolve()
    await flushMicrotasks()
    expect(sameTopic.status).toBe('pending')
    calls[3]!.resolve()
    await flushMicrotasks()
    // Behind the large request's last records, in order.
    expect([sent(2), sent(3)]).toEqual([['g3', 'g4', 'g5'], ['g6', 'g7', 'later']])
    expect([big.status, sameTopic.status]).toEqual(['resolved', 'resolved'])
  })

  it('shares calls among many concurrent requests: those of one tick make one call, those arriving in flight the next', async () => {
    const batches: string[][] = []
    const send = async (records: OutboundRecord[]): Promise<void> => {
      batches.push(records.map((r) => r.key))
      await new Promise((resolve) => setTimeout(resolve, 5))
    }
    const b = createBatcher({ send, lingerMs: 2, maxBatchRecords: 1000 })
    const keys = Array.from({ length: 200 }, (_, i) => `k${i}`)
    const done: string[] = []
    const all = Promise.all(
      keys.map(async (k, i) => {
        // Every 50th request arrives 3 ms late, while the first call is in flight.
        if (i % 50 === 0) await new Promise((resolve) => setTimeout(resolve, 3))
        await b.deliver([record(k)])
        done.push(k)
      }),
    )
    await vi.runAllTimersAsync()
    await all
    const late = ['k0', 'k50', 'k100', 'k150']
    expect(batches).toEqual([keys.filter((k) => !late.includes(k)), late])
    expect(done).toEqual([...keys.filter((k) => !late.includes(k)), ...late])
  })
})
