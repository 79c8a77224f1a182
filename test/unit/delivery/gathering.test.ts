// The adaptive linger under the traffic shapes that matter, in fake time: an open stream, senders that wait for each answer.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createBatcher } from '../../../src/delivery/batcher.js'
import { createGathering } from '../../../src/delivery/gathering.js'
import type { OutboundRecord } from '../../../src/delivery/types.js'

beforeEach(() => {
  vi.useFakeTimers()
})
afterEach(() => {
  vi.useRealTimers()
})

const KAFKA_MS = 2
const MAX_WAIT_MS = 20

interface Run {
  calls: number
  events: number
  /** Per request, in arrival order: the time from its arrival to its call's start. */
  waitsMs: number[]
}

/** A batcher whose produce calls take KAFKA_MS of fake time, recording each call's start and what it carried. */
function timedBatcher(busyLingerMs: number) {
  const run: Run = { calls: 0, events: 0, waitsMs: [] }
  const arrivals: number[] = []
  const send = async (records: OutboundRecord[]): Promise<void> => {
    run.calls++
    run.events += records.length
    for (const r of records) run.waitsMs[Number(r.key)] = Date.now() - arrivals[Number(r.key)]!
    await new Promise((resolve) => setTimeout(resolve, KAFKA_MS))
  }
  const batcher = createBatcher({ send, lingerMs: 0, busyLingerMs, maxBatchRecords: 1000, now: () => Date.now() })
  const deliver = (): Promise<void> => {
    const key = String(arrivals.length)
    arrivals.push(Date.now())
    return batcher.deliver([{ topic: 'dv2000.hospitality', key, value: Buffer.from(key), headers: {} }])
  }
  return { run, deliver }
}

/** `senders` that each send, wait for the answer, wait 1 ms (the round trip) and send again, for `forMs`. */
async function closedLoop(busyLingerMs: number, senders: number, forMs: number): Promise<Run> {
  const { run, deliver } = timedBatcher(busyLingerMs)
  const until = Date.now() + forMs
  const sender = async (): Promise<void> => {
    while (Date.now() < until) {
      await deliver()
      await new Promise((resolve) => setTimeout(resolve, 1))
    }
  }
  const all = Promise.all(Array.from({ length: senders }, sender))
  await vi.advanceTimersByTimeAsync(forMs + 100)
  await all
  return run
}

/** One request every `gapMs`, whatever the answers, for `forMs`; then, after a pause, one more. */
async function openStream(busyLingerMs: number, gapMs: number, forMs: number): Promise<Run> {
  const { run, deliver } = timedBatcher(busyLingerMs)
  const pending: Promise<void>[] = []
  const ticker = setInterval(() => pending.push(deliver()), gapMs)
  await vi.advanceTimersByTimeAsync(forMs)
  clearInterval(ticker)
  await vi.advanceTimersByTimeAsync(100)
  pending.push(deliver())
  await vi.advanceTimersByTimeAsync(100)
  await Promise.all(pending)
  return run
}

const longest = (waits: number[]): number => Math.max(...waits)

describe('the adaptive linger (kafka.busyLingerMs)', () => {
  it('gathers an open stream of 500 requests/s into calls of about ten, none waiting longer than busyLingerMs; one after a pause goes at once', async () => {
    const run = await openStream(MAX_WAIT_MS, 2, 2000)
    expect(run.events).toBe(1001)
    expect(run.events / run.calls).toBeGreaterThanOrEqual(8)
    expect(longest(run.waitsMs)).toBeLessThanOrEqual(MAX_WAIT_MS)
    expect(run.waitsMs.at(-1)).toBe(0)
    // Without it the same stream takes one call per request: Kafka answers before the next arrives.
    const plain = await openStream(0, 2, 2000)
    expect(plain.calls).toBe(1001)
  })

  it('sends every request of one sender that waits for each answer at once: as many answered as without lingering', async () => {
    const gathered = await closedLoop(MAX_WAIT_MS, 1, 3000)
    const plain = await closedLoop(0, 1, 3000)
    expect(gathered.events).toBeGreaterThanOrEqual(plain.events * 0.95)
    expect(longest(gathered.waitsMs)).toBe(0)
  })

  it.each([2, 4, 32])('keeps %i senders that wait for each answer at nearly full speed: the call goes when they are all back', async (senders) => {
    const gathered = await closedLoop(MAX_WAIT_MS, senders, 3000)
    const plain = await closedLoop(0, senders, 3000)
    expect(gathered.events).toBeGreaterThanOrEqual(plain.events * 0.8)
    // And in fewer calls than without the linger, or as few.
    expect(gathered.events / gathered.calls).toBeGreaterThanOrEqual((plain.events / plain.calls) * 0.95)
  })
})

describe('createGathering', () => {
  it('lets a request after a quiet spell go at once, and one within a stream wait for company', () => {
    const g = createGathering(20)
    g.arrived(1000, false)
    expect(g.waitMs(1000, 1, 1000)).toBeLessThanOrEqual(0)
    expect(g.began(1000, 1, 1000)).toBe('lone')
    // One arrives while that call is in flight, and more every 2 ms: an open stream, whose calls wait busyLingerMs.
    for (let at = 1001; at <= 1019; at += 2) g.arrived(at, at === 1001)
    expect(g.waitMs(1019, 10, 1001)).toBeGreaterThan(0)
    expect(g.waitMs(1021, 10, 1001)).toBeLessThanOrEqual(0)
    expect(g.began(1021, 10, 1001)).toBe('full')
  })

  it('remembers the size of a group that went quiet and sends the next as soon as that many are back; forgets it once more arrive while it is in flight', () => {
    const g = createGathering(20)
    g.arrived(1000, false)
    expect(g.began(1000, 1, 1000)).toBe('lone')
    // A group of one (a sender that waits for each answer) is assumed until shown otherwise: it goes at once.
    g.arrived(1003, false)
    expect(g.waitMs(1003, 1, 1003)).toBeLessThanOrEqual(0)
    expect(g.began(1003, 1, 1003)).toBe('group')
    // Three while that call is in flight: the stream is open, so they wait for company...
    for (let i = 0; i < 3; i++) g.arrived(1003, true)
    expect(g.waitMs(1004, 3, 1003)).toBeGreaterThan(0)
    // ...until arrivals have stopped for four average gaps; those three are then remembered as a group.
    expect(g.waitMs(1012, 3, 1003)).toBeLessThanOrEqual(0)
    expect(g.began(1012, 3, 1003)).toBe('quiet')
    g.arrived(1016, false)
    g.arrived(1016, false)
    expect(g.waitMs(1016, 2, 1016)).toBeGreaterThan(0)
    g.arrived(1016, false)
    expect(g.waitMs(1016, 3, 1016)).toBeLessThanOrEqual(0)
    expect(g.began(1016, 3, 1016)).toBe('group')
    // One more while that call is in flight: the group no longer ends a wait.
    g.arrived(1017, true)
    for (let i = 0; i < 3; i++) g.arrived(1019, false)
    expect(g.waitMs(1019, 4, 1017)).toBeGreaterThan(0)
  })

  it('never waits with busyLingerMs 0', () => {
    const g = createGathering(0)
    g.arrived(1000, false)
    g.arrived(1000, false)
    expect(g.waitMs(1000, 2, 1000)).toBeLessThanOrEqual(0)
    expect(g.began(1000, 2, 1000)).toBe('now')
  })
})
