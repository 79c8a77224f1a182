// Which Kafka failures are outages (spool and retry) and which are final (set aside): a wrong call loses events.
import { KafkaJSConnectionError, KafkaJSNonRetriableError, KafkaJSNumberOfRetriesExceeded, KafkaJSProtocolError } from 'kafkajs'
import { describe, expect, it } from 'vitest'

// The published typings lag the runtime: ProtocolError takes {type, code, retriable, message}, NonRetriableError a cause.
const protocolError = (e: { type: string; code: number; retriable: boolean; message: string }): Error => new KafkaJSProtocolError(e as unknown as Error)
const nonRetriable = (e: Error): Error => new (KafkaJSNonRetriableError as unknown as new (e: Error, o: { cause: Error }) => Error)(e, { cause: e })
import { createReader, kafkaLogCreator, wrapKafkaError } from '../../../src/delivery/kafka/index.js'
import { Kafka, KafkaJSGroupCoordinatorNotFound, logLevel } from 'kafkajs'
import { validateConfig } from '../../../src/config/load.js'
import { capturingLogger } from './spool-fixtures.js'

describe('wrapKafkaError', () => {
  // The shapes kafkajs gave against the stack's secured broker (scripts/stack.sh kafka-secure).
  it('names a refused connection\'s cause (authentication failed, certificate not trusted, certificate required), still as an outage', () => {
    const tls = (code: string): Error => new KafkaJSNumberOfRetriesExceeded(Object.assign(new KafkaJSConnectionError(`Connection error: ${code}`), { code }), { retryCount: 0, retryTime: 0 })
    const sasl = Object.assign(new Error('SASL SCRAM SHA512 authentication failed: Authentication failed during authentication due to invalid credentials'), { name: 'KafkaJSSASLAuthenticationError' })
    const cases: [Error, RegExp][] = [
      [sasl, /^Kafka refused the connection \(connecting\): authentication failed: the broker refused the SASL username or password/],
      [tls('SELF_SIGNED_CERT_IN_CHAIN'), /certificate not trusted: .*\(SELF_SIGNED_CERT_IN_CHAIN\)$/],
      [tls('ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE'), /certificate required: .*\(ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE\)$/],
      [tls('ERR_SSL_SSLV3_ALERT_CERTIFICATE_UNKNOWN'), /certificate required: /],
      [tls('ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED'), /certificate required: /],
      // Node 24's OpenSSL names the same alerts SSL/TLS.
      [tls('ERR_SSL_SSL/TLS_ALERT_BAD_CERTIFICATE'), /certificate required: /],
      [tls('ERR_SSL_SSL/TLS_ALERT_CERTIFICATE_UNKNOWN'), /certificate required: /],
    ]
    for (const [error, message] of cases) {
      const wrapped = wrapKafkaError(error, 'connecting')
      expect(wrapped).toMatchObject({ code: 'KAFKA_UNAVAILABLE', retriable: true })
      expect(wrapped.message).toMatch(message)
    }
    // A plain outage says only that.
    expect(wrapKafkaError(tls('ECONNREFUSED'), 'connecting').message).toMatch(/^Kafka is unavailable/)
  })

  it('treats a refused connection wrapped by exhausted retries as an outage, however deep', () => {
    const refused = new KafkaJSConnectionError('Connection error: connect ECONNREFUSED 127.0.0.1:9092')
    const exhausted = new KafkaJSNumberOfRetriesExceeded(refused, { retryCount: 5, retryTime: 2000 })
    const wrapped = new KafkaJSNonRetriableError(exhausted)
    for (const error of [refused, exhausted, wrapped, new Error('socket hang up'), 'weird']) {
      expect(wrapKafkaError(error, 'producing')).toMatchObject({ code: 'KAFKA_UNAVAILABLE', retriable: true })
    }
  })

  // kafkajs's retrier wraps a non-retriable error as new KafkaJSNonRetriableError(e, { cause: e }).
  it('treats only protocol errors no retry can fix as final', () => {
    const tooLarge = protocolError({ type: 'MESSAGE_TOO_LARGE', code: 10, retriable: false, message: 'The request included a message larger than the max message size the server will accept' })
    expect(wrapKafkaError(tooLarge, 'producing')).toMatchObject({ code: 'KAFKA_REJECTED', retriable: false })
    expect(wrapKafkaError(nonRetriable(tooLarge), 'producing')).toMatchObject({ code: 'KAFKA_REJECTED' })
    const leader = protocolError({ type: 'NOT_LEADER_FOR_PARTITION', code: 6, retriable: true, message: 'not leader' })
    expect(wrapKafkaError(nonRetriable(leader), 'producing')).toMatchObject({ code: 'KAFKA_UNAVAILABLE', retriable: true })
    const denied = protocolError({ type: 'TOPIC_AUTHORIZATION_FAILED', code: 29, retriable: false, message: 'Not authorized to access topics: [Topic authorization failed]' })
    // An ACL mistake holds the spool for an operator instead of setting records aside.
    expect(wrapKafkaError(nonRetriable(denied), 'producing')).toMatchObject({ code: 'KAFKA_UNAUTHORIZED', retriable: false })
    // The refusal names the ACL operation the principal lacks.
    expect(wrapKafkaError(denied, 'producing 3 record(s)').message).toMatch(/needs WRITE on the topic$/)
    expect(wrapKafkaError(denied, 'creating topic t').message).toMatch(/needs CREATE on the topic$/)
    expect(wrapKafkaError(denied, 'reading topic t').message).toMatch(/needs READ on the topic$/)
    const groupDenied = protocolError({ type: 'GROUP_AUTHORIZATION_FAILED', code: 30, retriable: false, message: 'Not authorized to access group: Group authorization failed' })
    expect(wrapKafkaError(groupDenied, 'reading topic t')).toMatchObject({ code: 'KAFKA_UNAUTHORIZED', message: expect.stringMatching(/needs READ on the consumer group$/) })
    // A topic that does not exist holds that topic (the batcher still resends it within its window: just created).
    const unknownTopic = protocolError({ type: 'UNKNOWN_TOPIC_OR_PARTITION', code: 3, retriable: true, message: 'unknown topic' })
    expect(wrapKafkaError(nonRetriable(unknownTopic), 'producing')).toMatchObject({ code: 'KAFKA_TOPIC_MISSING', retriable: false })
    // One error per topic, gathered by an admin call: the refusal is found inside.
    const aggregate = Object.assign(new Error('create topics failed'), { name: 'KafkaJSAggregateError', errors: [denied] })
    expect(wrapKafkaError(aggregate, 'creating topic t')).toMatchObject({ code: 'KAFKA_UNAUTHORIZED' })
  })
})

describe('a reader\'s consumer group refused', () => {
  // kafkajs drops the broker's GROUP_AUTHORIZATION_FAILED from FindCoordinator and throws only "not found".
  it('names the ACL on the configured group prefix, for a denial and for kafkajs\'s "no coordinator" alike', () => {
    const config = validateConfig({ kafka: { readerGroupPrefix: 'hotel7-readers-' }, sources: [{ id: 'front-desk', type: 'dv2000', secrets: ['a-secret-long-enough'] }] })
    const reader = createReader(new Kafka({ brokers: ['127.0.0.1:1'], logLevel: logLevel.NOTHING }), config, 'tail', 'hotel7.dv2000.hospitality', () => undefined)
    const notFound = new (KafkaJSGroupCoordinatorNotFound as unknown as new (message: string) => Error)('Failed to find group coordinator')
    expect(() => reader.rethrow(notFound)).toThrow(
      /^Kafka refused consumer group hotel7-readers-tail-[0-9a-f-]{36} \(reading hotel7\.dv2000\.hospitality\): the principal needs READ on the consumer groups whose names start with "hotel7-readers-" \(kafka\.readerGroupPrefix\), unless the cluster has no group coordinator up$/,
    )
    const denied = protocolError({ type: 'GROUP_AUTHORIZATION_FAILED', code: 30, retriable: false, message: 'Not authorized to access group: Group authorization failed' })
    expect(() => reader.rethrow(nonRetriable(denied))).toThrow(/needs READ on the consumer groups whose names start with "hotel7-readers-" \(kafka\.readerGroupPrefix\)$/)
    // Anything else is the topic's or an outage, as wrapKafkaError says.
    const topicDenied = protocolError({ type: 'TOPIC_AUTHORIZATION_FAILED', code: 29, retriable: false, message: 'Not authorized to access topics' })
    expect(() => reader.rethrow(topicDenied)).toThrow(/^Kafka denied reading hotel7\.dv2000\.hospitality \(TOPIC_AUTHORIZATION_FAILED\): the bridge's principal needs READ on the topic$/)
  })
})

describe('kafkajs log lines', () => {
  it('keeps a refused produce to the bridge\'s own line: kafkajs\'s per-request and per-retry errors are debug', () => {
    const { logger, lines } = capturingLogger()
    const log = kafkaLogCreator(logger)()
    const error = 'The request included a message larger than the max message size the server will accept'
    log({ namespace: 'Connection', level: logLevel.ERROR, label: 'ERROR', log: { timestamp: 'now', logger: 'kafkajs', message: 'Response Produce(key: 0, version: 7)', error, correlationId: 27 } })
    log({ namespace: 'Producer', level: logLevel.ERROR, label: 'ERROR', log: { timestamp: 'now', logger: 'kafkajs', message: error, retryCount: 0, retryTime: 102 } })
    log({ namespace: 'Cluster', level: logLevel.ERROR, label: 'ERROR', log: { timestamp: 'now', logger: 'kafkajs', message: 'Something kafkajs alone knows' } })
    expect(lines.map((l) => [l['level'], l['msg']])).toEqual([
      ['debug', 'Response Produce(key: 0, version: 7)'],
      ['debug', error],
      ['error', 'Something kafkajs alone knows'],
    ])
  })

  it('leaves a refused login to the bridge\'s one line per outage: kafkajs logs one per attempt, from two places', () => {
    const { logger, lines } = capturingLogger()
    const log = kafkaLogCreator(logger)()
    const refused = 'SASL SCRAM SHA512 authentication failed: Authentication failed during authentication due to invalid credentials with SASL mechanism SCRAM-SHA-512'
    log({ namespace: 'SaslAuthenticator-SCRAM-SHA-512', level: logLevel.ERROR, label: 'ERROR', log: { timestamp: 'now', logger: 'kafkajs', message: refused, broker: '127.0.0.1:9392' } })
    log({ namespace: 'BrokerPool', level: logLevel.ERROR, label: 'ERROR', log: { timestamp: 'now', logger: 'kafkajs', message: refused, retryCount: 0, retryTime: 100 } })
    expect(lines.map((l) => l['level'])).toEqual(['debug', 'debug'])
  })
})
