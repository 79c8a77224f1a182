// A token bucket per source: `perSecond` sustained, `burst` at once.

/** Absorbs the rounding of many small refills, so perSecond is met exactly over time. */
const EPSILON = 1e-9

export interface RateLimit {
  /** Takes one token; false (and the seconds until the next one) when the bucket is empty. */
  take(now?: number): { ok: true } | { ok: false; retryAfterSeconds: number }
}

export function createRateLimit(options: { perSecond: number; burst?: number | undefined } | undefined): RateLimit {
  if (options === undefined) return { take: () => ({ ok: true }) }
  const capacity = options.burst ?? Math.max(1, Math.ceil(options.perSecond))
  const perMs = options.perSecond / 1000
  let tokens = capacity
  // A monotonic clock: a wall clock stepping back (NTP) must not lock a source out.
  let last = performance.now()
  return {
    take(now = performance.now()) {
      tokens = Math.min(capacity, tokens + Math.max(0, now - last) * perMs)
      last = Math.max(last, now)
      if (tokens >= 1 - EPSILON) {
        tokens = Math.max(0, tokens - 1)
        return { ok: true }
      }
      return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil((1 - tokens) / perMs / 1000)) }
    },
  }
}
