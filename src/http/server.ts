// The fastify instance: raw-body parsing, JSON errors from our codes, redacted request logs, and the routes.
import { readFileSync } from 'node:fs'
import { createSecureContext } from 'node:tls'
import { parse as parseQuery } from 'node:querystring'
import Fastify, { type FastifyBaseLogger, type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify'
import type { BridgeConfig } from '../config/schema.js'
import { BridgeError, ErrorCodes, httpStatusOf, isBridgeError } from '../errors.js'
import type { Logger } from '../observability/logger.js'
import { redactUrl } from '../observability/redact.js'
import type { Metrics } from '../observability/metrics.js'
import type { Pipeline } from '../pipeline.js'
import { AccessLog } from './access-log.js'
import { trustFunction } from './client-address.js'
import { shedOverload } from './overload.js'
import { registerHealthRoutes, type Readiness } from './health-routes.js'
import { registerIngestRoutes } from './ingest-routes.js'
import { createSourceGuard, type SourceGuard } from './source-guard.js'

export interface HttpDeps {
  config: BridgeConfig
  logger: Logger
  metrics: Metrics
  pipeline: Pipeline
  readiness: () => Promise<Readiness>
  /** The /metrics text (default: this process's registry; a cluster's worker asks the primary for every process's). */
  metricsText?: (() => Promise<string>) | undefined
  /** One route /v1/{type}/{source} per sender type (default: the types of the configured sources). */
  senderTypes?: readonly string[]
  /** Who may post where (default: the config's sources, fixed); a reload replaces the sources of the one given. */
  guard?: SourceGuard
  /** Told of every admitted request's source (the silent-source watch). */
  heard?: (sourceId: string) => void
}

/** The HTTPS certificate and key, read and checked to belong together: at start-up, and on reload before anything changes. */
export function httpsCertificate(tls: NonNullable<BridgeConfig['http']['tls']>): { cert: Buffer; key: Buffer } {
  let certificate: { cert: Buffer; key: Buffer }
  try {
    certificate = { cert: readFileSync(tls.certFile), key: readFileSync(tls.keyFile) }
  } catch (error) {
    throw new BridgeError(ErrorCodes.CONFIG_INVALID, `http.tls: cannot read ${(error as NodeJS.ErrnoException).path ?? 'the certificate or key'}: ${(error as Error).message}`, {
      cause: error,
    })
  }
  try {
    createSecureContext(certificate)
  } catch (error) {
    // OpenSSL's reason (a key that is not the certificate's, a file that is not PEM), never the files' content.
    throw new BridgeError(ErrorCodes.CONFIG_INVALID, `http.tls: ${tls.certFile} and ${tls.keyFile} are not a certificate and its key: ${(error as Error).message}`, { cause: error })
  }
  return certificate
}

function tlsOptions(config: BridgeConfig): { https: { cert: Buffer; key: Buffer } } | Record<string, never> {
  return config.http.tls === undefined ? {} : { https: httpsCertificate(config.http.tls) }
}

const REQUEST_ID = /^[A-Za-z0-9._:@-]{1,128}$/

/** An incoming X-Request-Id when it is a plain token, else a new UUID. */
export function requestIdOf(header: string | string[] | undefined): string {
  return typeof header === 'string' && REQUEST_ID.test(header) ? header : crypto.randomUUID()
}

export function buildHttp(deps: HttpDeps): FastifyInstance {
  const { config, logger } = deps
  const app = Fastify({
    ...tlsOptions(config),
    loggerInstance: logger as FastifyBaseLogger,
    bodyLimit: config.http.bodyLimitBytes,
    trustProxy: trustFunction(config.http.trustProxy),
    // DV2000 opens a connection per event; idle keep-alive sockets only hold memory.
    keepAliveTimeout: 5_000,
    // A sender that trickles its request holds a socket: one event is small, 30 s is plenty.
    requestTimeout: 30_000,
    // A request on a connection accepted before SIGTERM is answered as usual: the drain waits for it (DV2000 never resends).
    return503OnClosing: false,
    forceCloseConnections: 'idle',
    logController: new AccessLog(),
    // A caller's (or proxy's) X-Request-Id joins its logs to ours; one that could forge a log line is replaced.
    genReqId: (request) => requestIdOf(request.headers['x-request-id']),
    // node's querystring: the same decoding the log redaction judges keys by (observability/redact.ts).
    routerOptions: { querystringParser: (query) => parseQuery(query) as Record<string, unknown> },
    // The router's own refusals (a malformed URL, an over-long parameter) would echo the raw URL, secret and all.
    frameworkErrors: (error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
      const status = error.code === 'FST_ERR_MAX_PARAM_LENGTH' ? 414 : 400
      void reply.status(status).send({ status: 'error', error: error.code, message: `the URL ${redactUrl(request.url)} is not valid` })
    },
  })
  const { maxConnections, maxBusyMs } = config.http
  shedOverload(app.server, { maxConnections, maxBusyMs }, { logger, onRefused: (reason) => deps.metrics.connectionsRefused.inc({ reason }) })
  app.setReplySerializer((payload) => JSON.stringify(payload))
  // Set as the request comes in, so that every answer carries it, refusals included; a callback hook: no promise.
  app.addHook('onRequest', (request, reply, done) => {
    void reply.header('x-request-id', request.id)
    done()
  })

  // Bodies stay bytes: a refused body must reach the dead letter exactly as it came, whatever its type.
  app.removeAllContentTypeParsers()
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => {
    done(null, body)
  })

  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (isBridgeError(error)) {
      const status = httpStatusOf[error.code]
      const retryAfter = (error as { retryAfterSeconds?: number }).retryAfterSeconds
      if (retryAfter !== undefined) void reply.header('retry-after', String(retryAfter))
      if (status === 401) void reply.header('www-authenticate', 'Basic realm="hotel-kafka-bridge", Bearer')
      return reply.code(status).send({ status: 'error', error: error.code, message: error.message })
    }
    if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      return reply.code(413).send({ status: 'error', error: 'PAYLOAD_TOO_LARGE', message: `the body exceeds ${config.http.bodyLimitBytes} bytes` })
    }
    const status = error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 500
    if (status === 500) request.log.error({ err: error }, 'unhandled error')
    return reply.code(status).send({ status: 'error', error: error.code ?? 'INTERNAL', message: status === 500 ? 'internal error' : error.message })
  })
  app.setNotFoundHandler((request, reply) => {
    return reply.code(404).send({ status: 'error', error: 'NOT_FOUND', message: `no route ${request.method} ${redactUrl(request.url).split('?')[0]}` })
  })

  registerHealthRoutes(app, deps)
  const senderTypes = deps.senderTypes ?? [...new Set(config.sources.map((s) => s.type))]
  registerIngestRoutes(app, { ...deps, senderTypes, guard: deps.guard ?? createSourceGuard(config.sources) })
  return app
}
