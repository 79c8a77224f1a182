// Liveness, readiness and the Prometheus endpoint.
import type { FastifyInstance } from 'fastify'
import type { Metrics } from '../observability/metrics.js'

export interface Readiness {
  ready: boolean
  /** How accepted events are stored right now: "kafka", later "spool"; "none" when neither can take them. */
  delivering: 'kafka' | 'spool' | 'none'
  kafka: string
  /** The spool is held until an operator fixes something (an ACL, an incompatible schema): why, and since when. */
  blocked?: { reason: string; message: string; since: string }
  spool?: { entries: number; bytes: number; usedBytes: number; maxBytes: number }
  detail?: string
}

export function registerHealthRoutes(app: FastifyInstance, deps: { metrics: Metrics; readiness: () => Promise<Readiness> }): void {
  app.get('/healthz', { logLevel: 'warn' }, async () => ({ status: 'ok' }))

  app.get('/readyz', { logLevel: 'warn' }, async (_request, reply) => {
    const readiness = await deps.readiness()
    return reply.code(readiness.ready ? 200 : 503).send({ status: readiness.ready ? 'ready' : 'not_ready', ...readiness })
  })

  app.get('/metrics', { logLevel: 'warn' }, async (_request, reply) => {
    const text = await deps.metrics.registry.metrics()
    return reply.header('content-type', deps.metrics.registry.contentType).send(text)
  })
}
