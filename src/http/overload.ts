// Overload: a new connection is closed as soon as it is accepted, before any TLS handshake, when the process already
// holds http.maxConnections or its event loop runs more than http.maxEventLoopDelayMs behind.
import type { Server, Socket } from 'node:net'
import type { Logger } from '../observability/logger.js'

export type RefusalReason = 'max_connections' | 'event_loop_delay'

export interface OverloadLimits {
  maxConnections: number
  maxEventLoopDelayMs: number
}

/** At most one log line per this long while connections are being refused: a flood of refusals is one story. */
const REPORT_EVERY_MS = 10_000
/** How often the event loop's delay is sampled: a timer that fires late by D says the loop ran D behind. */
const TICK_MS = 20

const WHY: Record<RefusalReason, string> = {
  max_connections: 'the bridge holds http.maxConnections connections already',
  event_loop_delay: 'the bridge runs more than http.maxEventLoopDelayMs behind',
}

/**
 * Under more load than the process takes, queued connections would otherwise wait behind each other's handshakes,
 * and then in the kernel's full accept queue, until the sender gives up; closed at once, the sender (or the load
 * balancer in front, which then tries another instance) knows within a round trip, and those accepted are answered
 * in time.
 */
export function shedOverload(server: Server, limits: OverloadLimits, deps: { logger: Logger; onRefused: (reason: RefusalReason) => void; now?: () => number }): void {
  const now = deps.now ?? (() => performance.now())
  let refused = 0
  let reportedAt = -Infinity
  const refuse = (reason: RefusalReason): void => {
    deps.onRefused(reason)
    refused++
    if (now() - reportedAt < REPORT_EVERY_MS) return
    deps.logger.warn({ refused, reason, ...limits }, `connections refused: ${WHY[reason]} (more load than it takes; add a process or an instance)`)
    reportedAt = now()
    refused = 0
  }

  server.maxConnections = limits.maxConnections
  server.on('drop', () => refuse('max_connections'))

  let lastTick = now()
  let behind = 0
  const sampler = setInterval(() => {
    const tick = now()
    behind = Math.max(0, tick - lastTick - TICK_MS)
    lastTick = tick
  }, TICK_MS).unref()
  server.on('close', () => clearInterval(sampler))
  server.on('connection', (socket: Socket) => {
    // The last sample, or how late the next one already is: a loop stuck in one long turn has not sampled yet.
    if (Math.max(behind, now() - lastTick - TICK_MS) <= limits.maxEventLoopDelayMs) return
    socket.destroy()
    refuse('event_loop_delay')
  })
}
