// When the batcher's next produce call goes: at once for a lone request, later while requests keep coming (an adaptive linger).

/**
 * Why a call went: `lone` (nothing had arrived for maxWaitMs), `group` (as many requests as the last closed group),
 * `quiet` (arrivals stopped), `full` (maxWaitMs since its oldest request), or `now` (a full batch, a flush).
 */
export type GatherReason = 'lone' | 'group' | 'quiet' | 'full' | 'now'

export interface Gathering {
  /** A request arrived; `inFlight`: while a call is in flight. */
  arrived(at: number, inFlight: boolean): void
  /** How much longer the next call should wait for company: 0 or less, go now. */
  waitMs(at: number, queuedRequests: number, oldestAt: number): number
  /** The next call goes now, carrying what is queued; returns which rule sent it (the tests check the rules by it). */
  began(at: number, queuedRequests: number, oldestAt: number): GatherReason
}

/** Quiet means no arrival for this many average gaps: an open stream rarely pauses so long (e^-4 ≈ 2 % of gaps). */
const QUIET_GAPS = 4
/** Weight of the newest gap in the average: about the last 8 arrivals count. */
const GAP_WEIGHT = 1 / 8

/**
 * Under load a produce call waits, at most maxWaitMs after its oldest request, for the requests still coming: fewer
 * calls, less CPU per event. Senders that wait for each answer (a closed loop) send nothing more until answered, so
 * waiting for them is pure delay; three rules end the wait early:
 * - a request after maxWaitMs without arrivals goes at once (a lone event, a sender that waits for each answer at a
 *   slow pace);
 * - a call goes when nothing has arrived for QUIET_GAPS average gaps; the requests it carries are then remembered as
 *   a closed group, and the next call goes as soon as as many are queued (every waiting sender is back);
 * - the group is forgotten when a request arrives while a call is in flight: senders that wait are all in the call, so
 *   the stream is open.
 */
export function createGathering(maxWaitMs: number): Gathering {
  let lastArrivalAt = -Infinity
  let gapMs = 0
  let lone = false
  // Until a stream shows itself open, assume a sender that waits for each answer: a group of one.
  let group = 1

  return {
    arrived(at, inFlight) {
      const gap = at - lastArrivalAt
      lone = gap >= maxWaitMs && !inFlight
      gapMs += (Math.min(gap, maxWaitMs) - gapMs) * GAP_WEIGHT
      lastArrivalAt = at
      if (inFlight) group = Infinity
    },
    waitMs(at, queuedRequests, oldestAt) {
      if (maxWaitMs <= 0 || lone || queuedRequests >= group) return 0
      return Math.min(oldestAt + maxWaitMs, lastArrivalAt + QUIET_GAPS * gapMs) - at
    },
    began(at, queuedRequests, oldestAt) {
      if (maxWaitMs <= 0) return 'now'
      if (lone) {
        lone = false
        return 'lone'
      }
      if (queuedRequests >= group) return 'group'
      if (at >= lastArrivalAt + QUIET_GAPS * gapMs) {
        group = queuedRequests
        return 'quiet'
      }
      return at >= oldestAt + maxWaitMs ? 'full' : 'now'
    },
  }
}
