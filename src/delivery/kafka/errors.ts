// kafkajs's errors wrapped into ours where they enter: an outage (retriable), a refusal for good, or one an operator must fix.
import { BridgeError, ErrorCodes } from '../../errors.js'

/**
 * Protocol errors that no retry, reconnect or outage's end will change: the only ones that may set records
 * aside. Anything else (connection refused, timeouts, leadership moves, exhausted retries) is an outage.
 */
const PERMANENT = new Set([
  'MESSAGE_TOO_LARGE',
  'RECORD_LIST_TOO_LARGE',
  'INVALID_RECORD',
  'CORRUPT_MESSAGE',
  'INVALID_TOPIC_EXCEPTION',
  'UNSUPPORTED_VERSION',
  'UNSUPPORTED_FOR_MESSAGE_FORMAT',
  'INVALID_REQUIRED_ACKS',
  'POLICY_VIOLATION',
])

/** An ACL that refuses the bridge: often a brief operator mistake, so the spool holds rather than set records aside. */
const AUTHORIZATION = new Set(['TOPIC_AUTHORIZATION_FAILED', 'GROUP_AUTHORIZATION_FAILED', 'CLUSTER_AUTHORIZATION_FAILED', 'TRANSACTIONAL_ID_AUTHORIZATION_FAILED'])
const GROUP_DENIED = new Set(['GROUP_AUTHORIZATION_FAILED'])

/** A topic that does not exist (or that the principal may not even describe): only an operator can make it. */
const MISSING = new Set(['UNKNOWN_TOPIC_OR_PARTITION'])

/**
 * kafkajs nests the real reason: exhausted retries wrap the last error as `cause`, sometimes several deep, and an
 * admin call on several topics gathers one error per topic in `errors`.
 */
function refusalType(error: unknown, types: ReadonlySet<string>, depth = 0): string | undefined {
  if (depth > 8 || typeof error !== 'object' || error === null) return undefined
  const type = (error as { type?: unknown }).type
  if (typeof type === 'string' && types.has(type)) return type
  for (const inner of (error as { errors?: unknown }).errors instanceof Array ? ((error as { errors: unknown[] }).errors) : []) {
    const found = refusalType(inner, types, depth + 1)
    if (found !== undefined) return found
  }
  return refusalType((error as { cause?: unknown }).cause ?? (error as { originalError?: unknown }).originalError, types, depth + 1)
}

/** An error's message, with the type and message of each error an admin call gathered (its own says only "errors"). */
export function describeKafkaError(error: unknown): string {
  const message = (error as { message?: string } | null)?.message ?? String(error)
  const inner = (error as { errors?: unknown }).errors
  if (!(inner instanceof Array) || inner.length === 0) return message
  const details = inner.map((e: { type?: string; message?: string }) => [e.type, e.message].filter(Boolean).join(': '))
  return `${message}: ${[...new Set(details)].join('; ')}`
}

/** The broker answered no for good (a protocol error it marks not retriable), as opposed to no answer or a transient one. */
export function brokerRefused(error: unknown, depth = 0): boolean {
  if (depth > 8 || typeof error !== 'object' || error === null) return false
  const { name, retriable } = error as { name?: unknown; retriable?: unknown }
  if ((name === 'KafkaJSProtocolError' || name === 'KafkaJSCreateTopicError') && retriable === false) return true
  const errors = (error as { errors?: unknown }).errors
  if (errors instanceof Array && errors.some((inner) => brokerRefused(inner, depth + 1))) return true
  return brokerRefused((error as { cause?: unknown }).cause ?? (error as { originalError?: unknown }).originalError, depth + 1)
}

/** A broker certificate the configured CAs do not verify (Node's TLS error codes). */
const UNTRUSTED = new Set([
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_UNTRUSTED',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'ERR_TLS_CERT_ALTNAME_INVALID',
])
/**
 * The broker's TLS alert when it refuses our client certificate, or gets none where it requires one. OpenSSL 3.2+ (Node
 * 24) names the alert "SSL/TLS" where older ones (Node 20) say "SSLV3".
 */
const CLIENT_CERT_REFUSED = /^ERR_SSL_(SSLV3|SSL\/TLS|TLSV1\d?)_ALERT_(BAD_CERTIFICATE|CERTIFICATE_UNKNOWN|CERTIFICATE_REQUIRED|UNKNOWN_CA|CERTIFICATE_EXPIRED|CERTIFICATE_REVOKED)$/

/**
 * Why Kafka refused the connection, when it is something to fix in the bridge's settings rather than an outage:
 * authentication failed, certificate not trusted, certificate required. Never holds a secret.
 */
export function connectionRefusal(error: unknown, depth = 0): string | undefined {
  if (depth > 8 || typeof error !== 'object' || error === null) return undefined
  const { name, code } = error as { name?: unknown; code?: unknown }
  if (name === 'KafkaJSSASLAuthenticationError') return 'authentication failed: the broker refused the SASL username or password (kafka.sasl)'
  if (typeof code === 'string' && UNTRUSTED.has(code)) return `certificate not trusted: the broker's certificate does not verify against kafka.caFile or the system's CAs (${code})`
  if (typeof code === 'string' && CLIENT_CERT_REFUSED.test(code)) {
    return `certificate required: the broker refused the client certificate, or got none (kafka.certFile and keyFile, signed by a CA it trusts) (${code})`
  }
  return connectionRefusal((error as { cause?: unknown }).cause ?? (error as { originalError?: unknown }).originalError, depth + 1)
}

/**
 * The ACL the principal lacks, by what was refused and what the call was doing: producing WRITE, creating CREATE,
 * describing configs DESCRIBE_CONFIGS, reading READ, listing DESCRIBE; a consumer group READ on the group.
 */
function permissionFor(denied: string, doing: string): string {
  if (denied === 'GROUP_AUTHORIZATION_FAILED') return 'READ on the consumer group'
  if (denied === 'CLUSTER_AUTHORIZATION_FAILED') return 'the cluster operation it asked for'
  if (doing.startsWith('producing')) return 'WRITE on the topic'
  if (doing.startsWith('creating')) return 'CREATE on the topic'
  if (doing.startsWith('describing')) return 'DESCRIBE_CONFIGS on the topic'
  if (doing.startsWith('reading')) return 'READ on the topic'
  return 'DESCRIBE on the topic'
}

export function wrapKafkaError(error: unknown, doing: string): BridgeError {
  if (error instanceof BridgeError) return error
  const message = (error as { message?: string } | null)?.message ?? String(error)
  // Still an outage for delivery (events wait in the spool until it is fixed), but one that says what to fix.
  const refused = connectionRefusal(error)
  if (refused !== undefined) return new BridgeError(ErrorCodes.KAFKA_UNAVAILABLE, `Kafka refused the connection (${doing}): ${refused}`, { retriable: true, cause: error })
  const denied = refusalType(error, AUTHORIZATION)
  if (denied !== undefined) {
    return new BridgeError(ErrorCodes.KAFKA_UNAUTHORIZED, `Kafka denied ${doing} (${denied}): the bridge's principal needs ${permissionFor(denied, doing)}`, { cause: error })
  }
  if (refusalType(error, MISSING) !== undefined) {
    return new BridgeError(ErrorCodes.KAFKA_TOPIC_MISSING, `Kafka has no such topic (${doing}): create it, or let the bridge create it (topics.create)`, { cause: error })
  }
  const permanent = refusalType(error, PERMANENT)
  return permanent === undefined
    ? new BridgeError(ErrorCodes.KAFKA_UNAVAILABLE, `Kafka is unavailable (${doing}): ${message}`, { retriable: true, cause: error })
    : new BridgeError(ErrorCodes.KAFKA_REJECTED, `Kafka refused ${doing} for good (${permanent}): ${message}`, { cause: error })
}

/**
 * A consumer group Kafka will not let the bridge use: denied outright, or no coordinator found, which is how kafkajs
 * reports a FindCoordinator refused by an ACL (it drops the broker's answer and keeps only "not found").
 */
export function groupRefusal(error: unknown): 'denied' | 'no coordinator' | undefined {
  if (refusalType(error, GROUP_DENIED) !== undefined) return 'denied'
  for (let e = error as { name?: unknown; cause?: unknown } | undefined, depth = 0; e !== undefined && e !== null && depth < 8; e = e.cause as typeof e, depth++) {
    if (e.name === 'KafkaJSGroupCoordinatorNotFound') return 'no coordinator'
  }
  return undefined
}

/** For a promise's catch: rethrows a kafkajs error wrapped, so that a command's one error line says what to fix. */
export const rethrowWrapped =
  (doing: string) =>
  (error: unknown): never => {
    throw wrapKafkaError(error, doing)
  }
