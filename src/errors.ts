// The bridge's one error type: a code from a closed list, a retriable flag and the cause it wraps.

export const ErrorCodes = {
  CONFIG_INVALID: 'CONFIG_INVALID',
  UNKNOWN_SOURCE: 'UNKNOWN_SOURCE',
  UNAUTHORIZED: 'UNAUTHORIZED',
  FORBIDDEN: 'FORBIDDEN',
  BAD_INPUT: 'BAD_INPUT',
  PAYLOAD_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  TOO_MANY_RECORDS: 'TOO_MANY_RECORDS',
  RATE_LIMITED: 'RATE_LIMITED',
  KAFKA_UNAVAILABLE: 'KAFKA_UNAVAILABLE',
  KAFKA_REJECTED: 'KAFKA_REJECTED',
  KAFKA_UNAUTHORIZED: 'KAFKA_UNAUTHORIZED',
  KAFKA_TOPIC_MISSING: 'KAFKA_TOPIC_MISSING',
  REGISTRY_UNAVAILABLE: 'REGISTRY_UNAVAILABLE',
  REGISTRY_REJECTED: 'REGISTRY_REJECTED',
  ENCODING_FAILED: 'ENCODING_FAILED',
  SPOOL_FULL: 'SPOOL_FULL',
  SPOOL_FAILED: 'SPOOL_FAILED',
  SPOOL_LOCKED: 'SPOOL_LOCKED',
  LISTEN_FAILED: 'LISTEN_FAILED',
  SHUTTING_DOWN: 'SHUTTING_DOWN',
} as const

export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes]

export interface BridgeErrorOptions {
  retriable?: boolean
  cause?: unknown
}

export class BridgeError extends Error {
  readonly code: ErrorCode
  /** True when the same operation may succeed later (Kafka or the registry away): spool, do not reject. */
  readonly retriable: boolean

  constructor(code: ErrorCode, message: string, options: BridgeErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.name = 'BridgeError'
    this.code = code
    this.retriable = options.retriable ?? false
  }
}

/** HTTP status per code: the one place where errors meet the HTTP contract (SPEC §2). */
export const httpStatusOf: Readonly<Record<ErrorCode, number>> = {
  CONFIG_INVALID: 500,
  UNKNOWN_SOURCE: 404,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  BAD_INPUT: 400,
  PAYLOAD_TOO_LARGE: 413,
  TOO_MANY_RECORDS: 413,
  RATE_LIMITED: 429,
  KAFKA_UNAVAILABLE: 503,
  KAFKA_REJECTED: 503,
  KAFKA_UNAUTHORIZED: 503,
  KAFKA_TOPIC_MISSING: 503,
  REGISTRY_UNAVAILABLE: 503,
  REGISTRY_REJECTED: 503,
  ENCODING_FAILED: 503,
  SPOOL_FULL: 503,
  SPOOL_FAILED: 503,
  SPOOL_LOCKED: 503,
  LISTEN_FAILED: 503,
  SHUTTING_DOWN: 503,
}

export function isBridgeError(value: unknown): value is BridgeError {
  return value instanceof BridgeError
}
