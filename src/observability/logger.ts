// The process logger: pino, with secrets redacted by path so no call site has to remember.
import { pino, type Logger, type LevelWithSilent } from 'pino'
import { redactUrl } from './redact.js'

export type { Logger }

/**
 * Where a secret may sit in a logged config, source, request or error. Named paths, never a leading `*`: with
 * one, pino runs every field and message of every line through the redactor (an access line took 15 µs, not 8).
 */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers["proxy-authorization"]',
  'headers.authorization',
  'headers["proxy-authorization"]',
  'authorization',
  'secrets',
  'source.secrets',
  'sources[*].secrets',
  'config.sources[*].secrets',
  'password',
  'sasl.password',
  'kafka.sasl.password',
  'config.kafka.sasl.password',
  'schemaRegistry.password',
  'config.schemaRegistry.password',
]

/** A line waits at most this long in the buffer of stdout (warn and above are written at once). */
const LOG_FLUSH_MS = 100
/** Lines are written once this many bytes are buffered: one write a dozen access lines, not one each. */
const LOG_BUFFER_BYTES = 4096
const WARN = 40

type BufferedStream = ReturnType<typeof pino.destination>
let stdout: BufferedStream | undefined

/**
 * stdout, buffered, one per process: a write per access line was about 5 % of the bridge's busy time at 500/s (a
 * steady-state profile). Written synchronously when full, after LOG_FLUSH_MS, at every line of warn and above, and
 * at exit; a SIGKILL loses at most LOG_FLUSH_MS of info lines.
 */
function bufferedStdout(): BufferedStream {
  if (stdout === undefined) {
    const stream = pino.destination({ dest: 1, sync: true, minLength: LOG_BUFFER_BYTES, periodicFlush: LOG_FLUSH_MS })
    process.once('exit', () => stream.flushSync())
    stdout = stream
  }
  return stdout
}

export function createLogger(level: LevelWithSilent, destination?: pino.DestinationStream): Logger {
  const buffered = destination === undefined ? bufferedStdout() : undefined
  return pino(
    {
      level,
      base: { service: 'hotel-kafka-bridge' },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      formatters: { level: (label) => ({ level: label }) },
      serializers: { req: serializeRequest, err: pino.stdSerializers.err },
      hooks: {
        logMethod(args, write, levelValue) {
          write.apply(this, args)
          if (levelValue >= WARN) buffered?.flush()
        },
      },
    },
    destination ?? buffered,
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
