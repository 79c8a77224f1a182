// POST /v1/{dv2000|servio}/{source}: admit the sender, hand the raw body to the pipeline, answer per SPEC §2.
import type { FastifyInstance } from 'fastify'
import type { SourceConfig } from '../config/schema.js'
import { ErrorCodes, isBridgeError, type ErrorCode } from '../errors.js'
import type { Logger } from '../observability/logger.js'
import type { Metrics, RequestOutcome } from '../observability/metrics.js'
import { printableId } from '../observability/redact.js'
import type { Pipeline } from '../pipeline.js'
import { sourcePath } from '../records.js'
import type { SourceGuard } from './source-guard.js'

const outcomeOfError: Partial<Record<ErrorCode, RequestOutcome>> = {
  [ErrorCodes.UNKNOWN_SOURCE]: 'unknown_source',
  [ErrorCodes.UNAUTHORIZED]: 'unauthorized',
  [ErrorCodes.FORBIDDEN]: 'forbidden',
  [ErrorCodes.RATE_LIMITED]: 'rate_limited',
}

declare module 'fastify' {
  interface FastifyRequest {
    bridgeSource: SourceConfig | null
    receivedAtMs: number
    /** The event the request was, once the pipeline named it: the access line says it (access-log.ts). */
    bridgeEventId: string | null
  }
}

interface IngestDeps {
  pipeline: Pipeline
  metrics: Metrics
  guard: SourceGuard
  senderTypes: readonly string[]
  /** A source was admitted (known, allowed, authenticated): it speaks, whatever becomes of its body. */
  heard?: (sourceId: string) => void
}

export function registerIngestRoutes(app: FastifyInstance, { pipeline, metrics, guard, senderTypes, heard }: IngestDeps): void {
  app.decorateRequest('bridgeSource', null)
  app.decorateRequest('receivedAtMs', 0)
  app.decorateRequest('bridgeEventId', null)

  for (const type of senderTypes) {
    app.post<{ Params: { source: string }; Querystring: { token?: unknown } }>(sourcePath(type, ':source'), {
      // Refuse before the body is read: an unknown or unauthorised sender costs no bytes. A callback hook: no promise.
      onRequest: (request, _reply, done) => {
        request.receivedAtMs = Date.now()
        let refusal: Error | undefined
        try {
          request.bridgeSource = guard.admit(type, request.params.source, {
            ip: request.ip,
            authorization: request.headers.authorization,
            token: request.query.token,
          })
          heard?.(request.bridgeSource.id)
        } catch (error) {
          if (isBridgeError(error)) {
            // An unknown id is not a label: anyone could otherwise grow the metrics without bound.
            const source = error.code === ErrorCodes.UNKNOWN_SOURCE ? '(unknown)' : request.params.source
            metrics.requests.inc({ source, outcome: outcomeOfError[error.code] ?? 'rejected' })
            request.log.warn({ source: printableId(request.params.source), code: error.code }, error.message)
          }
          refusal = error as Error
        }
        // Outside the try: what fastify runs next from done() must not land in this catch.
        done(refusal)
      },
      onError: async (request, _reply, error) => {
        const source = request.bridgeSource?.id ?? request.params.source
        if ((error as { code?: string }).code === 'FST_ERR_CTP_BODY_TOO_LARGE') metrics.requests.inc({ source, outcome: 'too_large' })
      },
      handler: async (request, reply) => {
        const source = request.bridgeSource!
        const stop = metrics.requestSeconds.startTimer({ source_type: source.type })
        try {
          const outcome = await pipeline.ingest(source, {
            body: (request.body as Buffer | undefined) ?? Buffer.alloc(0),
            contentType: request.headers['content-type'],
            remoteAddress: request.ip,
            receivedAt: new Date(request.receivedAtMs),
            userAgent: request.headers['user-agent'],
            // A pino child of the bridge's logger (server.ts gives fastify that logger), typed by fastify more narrowly.
            log: request.log as Logger,
          })
          request.bridgeEventId = outcome.eventId
          metrics.requests.inc({ source: source.id, outcome: outcome.status === 'too_many' ? 'too_large' : outcome.status })
          if (outcome.status === 'rejected' || outcome.status === 'too_many') {
            const [code, error] = outcome.status === 'rejected' ? [400, ErrorCodes.BAD_INPUT] : [413, ErrorCodes.TOO_MANY_RECORDS]
            return reply.code(code).send({ status: 'rejected', event_id: outcome.eventId, error, reason: outcome.reason, dead_letter: outcome.stored })
          }
          if (outcome.status === 'filtered') {
            return reply.code(200).send({ status: 'filtered', event_id: outcome.eventId, reason: outcome.reason })
          }
          request.log.debug({ event_id: outcome.eventId, source: source.id, records: outcome.records, status: outcome.status }, 'stored')
          return reply.code(outcome.status === 'spooled' ? 202 : 200).send({
            status: outcome.status,
            event_id: outcome.eventId,
            ...(outcome.batchId === undefined ? {} : { batch_id: outcome.batchId }),
            records: outcome.records,
          })
        } catch (error) {
          // Logged by the pipeline, with the event's id; here only counted and answered.
          metrics.requests.inc({ source: source.id, outcome: 'unavailable' })
          throw error
        } finally {
          stop()
        }
      },
    })
  }
}
