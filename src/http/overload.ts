// Overload: a new connection is closed as soon as it is accepted, before any TLS handshake, when the process already
// holds http.maxConnections or has been busy without a pause for longer than http.maxBusyMs.
import type { Server, Socket } from 'node:net'
import { performance, type EventLoopUtilization } from 'node:perf_hooks'
import type { Logger } from '../observability/logger.js'

export type RefusalReason = 'max_connections' | 'busy'

export interface OverloadLimits {
  maxConnections: number
  maxBusyMs: number
}

/** At most one log line per this long while connections are being refused: a flood of refusals is one story. */
const REPORT_EVERY_MS = 10_000
/** How often the event loop is sampled. */
const TICK_MS = 20
/** Less idle time than this in a tick: the loop never waited for work, so connections were waiting for it. */
const IDLE_MS = 0.5

const WHY: Record<RefusalReason, string> = {
  max_connections: 'the bridge holds http.maxConnections connections already',
  busy: 'the bridge has been busy without a pause for longer than http.maxBusyMs',
}

/**
 * Node accepts one connection per turn of its event loop (libuv since 2022), so a process that gets more than it
 * can serve takes connections at the rate it serves them and the rest wait, unseen, in the kernel's accept queue
 * until it overflows and drops SYNs (resent 1, 3, 7 s later). A loop that found work waiting at every turn for
 * maxBusyMs is that case: new connections are then closed as they are accepted, which is cheap, so the queue
 * drains within a few turns, and what stays is answered in time. The sender (or the load balancer in front, which
 * then tries another instance) knows within a round trip.
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
  /** When the loop last waited for work (found nothing ready): connections were not queueing then. */
  let lastIdle = lastTick
  let utilization: EventLoopUtilization = performance.eventLoopUtilization()
  const sampler = setInterval(() => {
    const tick = now()
    const sinceLast = performance.eventLoopUtilization(utilization)
    utilization = performance.eventLoopUtilization()
    if (sinceLast.idle >= IDLE_MS) lastIdle = tick
    lastTick = tick
  }, TICK_MS).unref()
  // Start-up (loading modules, opening the spool) keeps the loop busy before anyone can connect: it does not count.
  server.on('listening', () => {
    lastTick = lastIdle = now()
    utilization = performance.eventLoopUtilization()
  })
  server.on('close', () => clearInterval(sampler))
  server.on('connection', (socket: Socket) => {
    const at = now()
    // A turn that has held the loop since the last tick counts as busy too: the sampler cannot run during it.
    const busyMs = Math.max(lastTick - lastIdle, at - lastTick - TICK_MS)
    if (busyMs <= limits.maxBusyMs) return
    socket.destroy()
    refuse('busy')
  })
}
