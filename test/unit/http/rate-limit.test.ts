// A source's token bucket: `burst` at once, `perSecond` sustained, the wait announced for a 429.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createRateLimit } from '../../../src/http/rate-limit.js'

// The bucket starts full when created; fake timers pin the clock it reads (performance.now) too.
const T0 = Date.UTC(2024, 0, 1)
beforeEach(() => {
  vi.useFakeTimers({ toFake: ['Date', 'performance', 'setTimeout', 'clearTimeout'] })
  vi.setSystemTime(T0)
})
afterEach(() => {
  vi.useRealTimers()
})

function takes(limit: ReturnType<typeof createRateLimit>, at: number, count: number): boolean[] {
  return Array.from({ length: count }, () => limit.take(at).ok)
}

describe('createRateLimit', () => {
  it('lets everything through when the source has no rate limit', () => {
    const limit = createRateLimit(undefined)
    expect(takes(limit, T0, 10_000).every(Boolean)).toBe(true)
  })

  it('allows a burst at once, then refuses with the seconds to wait', () => {
    const limit = createRateLimit({ perSecond: 2, burst: 3 })
    expect(takes(limit, T0, 3)).toEqual([true, true, true])
    expect(limit.take(T0)).toEqual({ ok: false, retryAfterSeconds: 1 })
  })

  it('refills at perSecond, never above the burst', () => {
    const limit = createRateLimit({ perSecond: 2, burst: 3 })
    takes(limit, T0, 3)
    expect(limit.take(T0 + 499).ok).toBe(false)
    expect(limit.take(T0 + 500).ok).toBe(true)
    expect(limit.take(T0 + 500).ok).toBe(false)
    // A long quiet spell refills to the burst, not beyond it.
    expect(takes(limit, T0 + 3_600_000, 4)).toEqual([true, true, true, false])
  })

  it('sustains exactly perSecond over time', () => {
    const limit = createRateLimit({ perSecond: 10, burst: 1 })
    let ok = 0
    for (let ms = 0; ms < 10_000; ms += 10) if (limit.take(T0 + ms).ok) ok++
    expect(ok).toBe(100)
  })

  it('defaults the burst to perSecond rounded up', () => {
    expect(takes(createRateLimit({ perSecond: 2.5 }), T0, 4)).toEqual([true, true, true, false])
    expect(takes(createRateLimit({ perSecond: 0.2 }), T0, 2)).toEqual([true, false])
  })

  it('announces how long until the next token for slow limits', () => {
    const limit = createRateLimit({ perSecond: 0.2, burst: 1 })
    expect(limit.take(T0).ok).toBe(true)
    expect(limit.take(T0)).toEqual({ ok: false, retryAfterSeconds: 5 })
    expect(limit.take(T0 + 2_000)).toEqual({ ok: false, retryAfterSeconds: 3 })
    expect(limit.take(T0 + 5_000).ok).toBe(true)
  })

  it('uses its own clock when no time is given', () => {
    const limit = createRateLimit({ perSecond: 1, burst: 1 })
    expect(limit.take().ok).toBe(true)
    expect(limit.take().ok).toBe(false)
    vi.advanceTimersByTime(1_000)
    expect(limit.take().ok).toBe(true)
  })

  // DV2000 never retries: a 429 loses the event. A wall clock stepped back (NTP) must not empty the bucket.
  it('does not lock a source out when the clock steps backwards', () => {
    const limit = createRateLimit({ perSecond: 10, burst: 20 })
    expect(limit.take(T0).ok).toBe(true)
    expect(limit.take(T0 - 60_000).ok).toBe(true)
    expect(limit.take(T0 - 59_000).ok).toBe(true)
  })
})
