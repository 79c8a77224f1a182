// A cluster worker (http.processes > 1): TLS, HTTP, parsing and Avro encoding; the records go to the primary, which
// holds the one Kafka producer and the one spool, and answers once they are stored.
import cluster from 'node:cluster'
import { buildFront, type Front } from '../app.js'
import { loadSchemaFiles } from '../avro/schemas.js'
import type { BridgeConfig } from '../config/schema.js'
import type { Stored } from '../delivery/types.js'
import { waitAtMost } from '../deadline.js'
import { createLogger, type Logger } from '../observability/logger.js'
import { createMetrics } from '../observability/metrics.js'
import type { Readiness } from '../readiness.js'
import { builtInSources } from '../sources/index.js'
import { openChannel, type Port } from './channel.js'
import { toWire } from './wire.js'

/** A source is reported heard at most this often: the silent-source watch counts in minutes. */
const HEARD_EVERY_MS = 1_000

/** The address to listen on, or the socket systemd passed to the primary (its fd, which node's cluster shares). */
export type ListenOn = { host: string; port: number } | { fd: number }

export function runWorker(): void {
  const id = cluster.worker?.id ?? 0
  let front: Front | undefined
  let logger: Logger | undefined
  const metrics = createMetrics()
  const lastHeard = new Map<string, number>()

  const channel = openChannel(process as Port, {
    async start(config: BridgeConfig, listen: ListenOn) {
      logger = createLogger(config.log.level).child({ worker: id })
      const schemas = loadSchemaFiles(builtInSources.schemaFiles)
      front = buildFront(config, {
        logger,
        metrics,
        schemas,
        sink: { deliver: (records, receivedAt) => channel.call<Stored>('deliver', records.map(toWire), receivedAt.getTime()) },
        readiness: () => channel.call<Readiness>('readiness'),
        metricsText: () => channel.call<string>('metrics'),
        heard(sourceId) {
          const now = Date.now()
          if (now - (lastHeard.get(sourceId) ?? -Infinity) < HEARD_EVERY_MS) return
          lastHeard.set(sourceId, now)
          channel.note('heard', sourceId)
        },
      })
      // fastify hands the fd to node's server.listen, which takes it before host and port.
      await front.http.listen('fd' in listen ? ({ fd: listen.fd, host: '0.0.0.0' } as { host: string }) : listen)
    },
    /** This process's metrics, for the primary to add up with every other process's. */
    metricsJson: () => metrics.registry.getMetricsAsJSON(),
    reconfigure(next: BridgeConfig) {
      front?.checkReload(next).apply()
    },
    /** Stops accepting and finishes in-flight requests, for up to graceMs; true when none was left unanswered. */
    async stop(graceMs: number) {
      if (front === undefined) return true
      return waitAtMost(front.http.close(), graceMs)
    },
  })

  // Its channel closed: the primary stopped it (after `stop`), or the primary is gone.
  process.on('disconnect', () => process.exit(0))
  // An answer to a primary that has just gone has nowhere to go; the disconnect ends this worker.
  process.on('error', () => {})
  channel.note('ready')
  // The primary stops the workers; a signal sent to the whole process group must not stop one under it.
  for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.on(signal, () => {})
  process.on('uncaughtException', (error) => {
    // The primary is gone (its start failed, or it was killed): nothing to report to.
    if (!process.connected) process.exit(0)
    logger?.fatal({ err: error }, 'uncaught exception in a worker: it exits and the primary starts another')
    process.exit(1)
  })
}
