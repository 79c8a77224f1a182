// kafkajs's request queue as the bridge runs it: no timer while nothing waits, a check while a request waits.
import { describe, expect, it } from 'vitest'
import { RequestQueueClass } from '../../../src/delivery/kafka/request-queue-fix.js'

const silent = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} }

function queue(maxInFlightRequests = 1) {
  return new RequestQueueClass({ maxInFlightRequests, requestTimeout: 30_000, enforceRequestTimeout: false, clientId: 'test', broker: '127.0.0.1:9092', logger: silent })
}

describe('kafkajs request queue (fix for its idle timer loop)', () => {
  it('schedules no check while nothing is pending: after a check, as after every response', () => {
    const q = queue()
    q.checkPendingRequests()
    // kafkajs 2.2.4 sets a timer of throttledUntil - now (negative: 1 ms) here, and again each time it fires.
    expect(q.throttleCheckTimeoutId).toBeNull()
  })

  it('checks again while a request waits, when the throttle ends', async () => {
    const q = queue()
    let sent = false
    q.pending.push({ send: () => (sent = true), expectResponse: true, correlationId: 1 })
    q.throttledUntil = Date.now() + 20
    q.checkPendingRequests()
    expect(q.throttleCheckTimeoutId).not.toBeNull()
    await expect.poll(() => sent, { timeout: 5_000 }).toBe(true)
    expect(q.pending).toHaveLength(0)
    expect(q.throttleCheckTimeoutId).toBeNull()
  })
})
