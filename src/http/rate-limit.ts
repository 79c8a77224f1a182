// A token bucket per source: `perSecond` sustained, `burst` at once.

export interface RateLimit {
  /** Takes one token; false (and the seconds until the next one) when the bucket is empty. */
  take(now?: number): { ok: true } | { ok: false; retryAfterSeconds: number }
}

export function createRateLimit(options: { perSecond: number; burst?: number | undefined } | undefined): RateLimit {
  if (options === undefined) return { take: () => ({ ok: true }) }
  const capacity = options.burst ?? Math.max(1, Math.ceil(options.perSecond))
  const perMs = options.perSecond / 1000
  let tokens = capacity
  let last = Date.now()
  return {
    take(now = Date.now()) {
      tokens = Math.min(capacity, tokens + (now - last) * perMs)
      last = now
      if (tokens >= 1) {
        tokens -= 1
        return { ok: true }
      }
      return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil((1 - tokens) / perMs / 1000)) }
    },
  }
}
