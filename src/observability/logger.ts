// The process logger: pino, with secrets redacted by path so no call site has to remember.
import { pino, type Logger, type LevelWithSilent } from 'pino'
import { redactUrl } from './redact.js'

export type { Logger }

/** Paths that may hold a secret anywhere a config, request or error is logged. */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers["proxy-authorization"]',
  'headers.authorization',
  'secrets',
  '*.secrets',
  'config.sources[*].secrets',
  'sources[*].secrets',
  'password',
  '*.password',
  'schemaRegistry.password',
  'kafka.sasl.password',
]

export function createLogger(level: LevelWithSilent, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'hotel-kafka-bridge' },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      formatters: { level: (label) => ({ level: label }) },
      serializers: { req: serializeRequest, err: pino.stdSerializers.err },
    },
    destination,
  )
}

interface LoggedRequest {
  method?: string
  url?: string
  ip?: string
  headers?: Record<string, string | string[] | undefined>
}

/** A request in a log line: no query secret, no Authorization header (fastify's default logs the whole URL). */
export function serializeRequest(request: LoggedRequest): Record<string, unknown> {
  return {
    method: request.method,
    url: request.url === undefined ? undefined : redactUrl(request.url),
    remoteAddress: request.ip,
    userAgent: request.headers?.['user-agent'],
  }
}
