// Overload: beyond http.maxConnections a new connection is closed as soon as it is accepted, before any TLS handshake.
import type { Server } from 'node:net'
import type { Logger } from '../observability/logger.js'

/** At most one log line per this long while connections are being refused: a flood of refusals is one story. */
const REPORT_EVERY_MS = 10_000

/**
 * Caps the connections the server holds. Under more load than the process can take, queued connections would
 * otherwise wait behind each other's handshakes until the sender gives up; closed at once, the sender (or the
 * load balancer in front, which then tries another instance) knows within a round trip.
 */
export function limitConnections(server: Server, max: number, deps: { logger: Logger; onRefused: () => void; now?: () => number }): void {
  const now = deps.now ?? Date.now
  server.maxConnections = max
  let refused = 0
  let reportedAt = -Infinity
  server.on('drop', () => {
    deps.onRefused()
    refused++
    if (now() - reportedAt < REPORT_EVERY_MS) return
    deps.logger.warn(
      { refused, maxConnections: max },
      'connections refused: the bridge holds http.maxConnections connections already (more load than it takes; add a process or an instance)',
    )
    reportedAt = now()
    refused = 0
  })
}
