// Liveness, readiness and the Prometheus endpoint.
import type { FastifyInstance } from 'fastify'
import type { Metrics } from '../observability/metrics.js'
import type { Readiness } from '../readiness.js'

export type { Readiness } from '../readiness.js'

export function registerHealthRoutes(app: FastifyInstance, deps: { metrics: Metrics; readiness: () => Promise<Readiness>; metricsText?: (() => Promise<string>) | undefined }): void {
  app.get('/healthz', { logLevel: 'warn' }, async () => ({ status: 'ok' }))

  app.get('/readyz', { logLevel: 'warn' }, async (_request, reply) => {
    const readiness = await deps.readiness()
    return reply.code(readiness.ready ? 200 : 503).send({ status: readiness.ready ? 'ready' : 'not_ready', ...readiness })
  })

  app.get('/metrics', { logLevel: 'warn' }, async (_request, reply) => {
    const text = await (deps.metricsText ?? (() => deps.metrics.registry.metrics()))()
    return reply.header('content-type', deps.metrics.registry.contentType).send(text)
  })
}
