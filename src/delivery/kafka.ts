// The kafkajs edge: one client, an acks=all producer (one request in flight, no internal retries), topic creation, and errors wrapped into ours.
import { Kafka, logLevel, Partitioners, type ConfigResourceTypes, type ITopicConfig, type LogEntry, type Message, type Producer, type SASLOptions } from 'kafkajs'
import type { BridgeConfig } from '../config/schema.js'
import { waitAtMost, within } from '../deadline.js'
import { BridgeError, ErrorCodes } from '../errors.js'
import type { Logger } from '../observability/logger.js'
import type { OutboundRecord } from './types.js'

export type KafkaState = 'connecting' | 'connected' | 'unreachable' | 'closed'

export interface KafkaEdge {
  readonly state: KafkaState
  /** Connected once and the topics exist: produce calls may be made. */
  readonly prepared: boolean
  /** Connects and creates missing topics; resolves when produce calls may be made. */
  prepare(topics: readonly string[]): Promise<string[]>
  /** Connects the producer and the admin client; produce calls may be made from here on. */
  connect(): Promise<void>
  /**
   * Makes sure one topic can be written: creates it when missing and topics.create is on. Rejects with the refusal
   * that holds it (KAFKA_UNAUTHORIZED, KAFKA_TOPIC_MISSING) or, when Kafka did not answer, as unavailable.
   */
  prepareTopic(topic: string): Promise<'created' | 'exists'>
  /** Is the topic listed (and so visible to this principal)? A produce refused as UNKNOWN_TOPIC may be a broker catching up. */
  topicExists(topic: string): Promise<boolean>
  send(records: OutboundRecord[]): Promise<void>
  ensureTopics(topics: readonly string[]): Promise<string[]>
  /** Partitions of these topics with fewer in-sync replicas than their min.insync.replicas: acks=all fails there. */
  underReplicated(topics: readonly string[]): Promise<{ topic: string; partition: number; inSync: number; minInSync: number }[]>
  /** A metadata round trip, bounded by the connection timeout: is the cluster reachable now? */
  probe(): Promise<boolean>
  close(): Promise<void>
}

/**
 * Debug only: warnings about choices made here on purpose (bounded retries, the Java-compatible partitioner),
 * kafkajs's line per failed connection attempt, and its lines per failed request and per retry: the bridge
 * logs an outage or a refusal once itself, where it handles it (STYLE 12).
 */
const QUIET = [/Limiting retries for the idempotent producer/, /switched default partitioner/, /^Connection error/, /^Failed to connect to seed broker/, /^Connection timeout/, /^Response \w+\(key: \d+/]

export function kafkaLogCreator(logger: Logger) {
  const child = logger.child({ component: 'kafkajs' })
  return () =>
    ({ namespace, level, log }: LogEntry) => {
      const { message, timestamp: _t, logger: _l, ...extra } = log
      const fields = { namespace, ...extra }
      // A retry of the producer's: the call's final outcome is what the bridge acts on and logs.
      const retrying = namespace === 'Producer' && 'retryCount' in extra
      if (retrying || QUIET.some((pattern) => pattern.test(message))) child.debug(fields, message)
      else if (level === logLevel.ERROR) child.error(fields, message)
      else if (level === logLevel.WARN) child.warn(fields, message)
      else if (level === logLevel.INFO) child.info(fields, message)
      else child.debug(fields, message)
    }
}

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

/** ConfigResourceTypes.TOPIC: kafkajs (CommonJS) does not expose that enum to Node's ESM loader, only to bundlers. */
const TOPIC_RESOURCE = 2 as ConfigResourceTypes

/** An ACL that refuses the bridge: often a brief operator mistake, so the spool holds rather than set records aside. */
const AUTHORIZATION = new Set(['TOPIC_AUTHORIZATION_FAILED', 'CLUSTER_AUTHORIZATION_FAILED', 'TRANSACTIONAL_ID_AUTHORIZATION_FAILED'])

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
function describe(error: unknown): string {
  const message = (error as { message?: string } | null)?.message ?? String(error)
  const inner = (error as { errors?: unknown }).errors
  if (!(inner instanceof Array) || inner.length === 0) return message
  const details = inner.map((e: { type?: string; message?: string }) => [e.type, e.message].filter(Boolean).join(': '))
  return `${message}: ${[...new Set(details)].join('; ')}`
}

/** The broker answered no for good (a protocol error it marks not retriable), as opposed to no answer or a transient one. */
function brokerRefused(error: unknown, depth = 0): boolean {
  if (depth > 8 || typeof error !== 'object' || error === null) return false
  const { name, retriable } = error as { name?: unknown; retriable?: unknown }
  if ((name === 'KafkaJSProtocolError' || name === 'KafkaJSCreateTopicError') && retriable === false) return true
  const errors = (error as { errors?: unknown }).errors
  if (errors instanceof Array && errors.some((inner) => brokerRefused(inner, depth + 1))) return true
  return brokerRefused((error as { cause?: unknown }).cause ?? (error as { originalError?: unknown }).originalError, depth + 1)
}

export function wrapKafkaError(error: unknown, doing: string): BridgeError {
  if (error instanceof BridgeError) return error
  const message = (error as { message?: string } | null)?.message ?? String(error)
  const denied = refusalType(error, AUTHORIZATION)
  if (denied !== undefined) return new BridgeError(ErrorCodes.KAFKA_UNAUTHORIZED, `Kafka denied ${doing} (${denied}): check the ACLs of the bridge's principal`, { cause: error })
  if (refusalType(error, MISSING) !== undefined) {
    return new BridgeError(ErrorCodes.KAFKA_TOPIC_MISSING, `Kafka has no such topic (${doing}): create it, or let the bridge create it (topics.create)`, { cause: error })
  }
  const permanent = refusalType(error, PERMANENT)
  return permanent === undefined
    ? new BridgeError(ErrorCodes.KAFKA_UNAVAILABLE, `Kafka is unavailable (${doing}): ${message}`, { retriable: true, cause: error })
    : new BridgeError(ErrorCodes.KAFKA_REJECTED, `Kafka refused ${doing} for good (${permanent}): ${message}`, { cause: error })
}

/** A kafkajs client with the config's brokers, TLS, SASL and timeouts, logging through ours (also for the CLI's readers). */
export function createKafkaClient(config: BridgeConfig, logger: Logger, clientSuffix = ''): Kafka {
  const options = config.kafka
  return new Kafka({
    clientId: `${options.clientId}${clientSuffix}`,
    brokers: [...options.brokers],
    ssl: options.ssl,
    sasl: options.sasl === undefined ? undefined : ({ ...options.sasl } as SASLOptions),
    connectionTimeout: options.connectionTimeoutMs,
    requestTimeout: options.requestTimeoutMs,
    logLevel: logLevel.WARN,
    logCreator: kafkaLogCreator(logger),
    retry: { retries: 5, initialRetryTime: 100, maxRetryTime: 2_000 },
  })
}

export function createKafkaEdge(config: BridgeConfig, logger: Logger): KafkaEdge {
  const { kafka: options, topics: topicOptions } = config
  const kafka = createKafkaClient(config, logger)
  const newProducer = (): Producer => {
    const fresh = kafka.producer({
      // Not kafkajs's idempotence: it demands internal retries, and those lose records (below). With one request in
      // flight and no internal retries there is no retry for the broker to deduplicate: order per partition holds,
      // and what a failed call carried is replayed whole (at-least-once, duplicates carry their event_id).
      idempotent: false,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      // murmur2, as Java clients: a key lands on the same partition whoever produces it.
      createPartitioner: Partitioners.DefaultPartitioner,
      // No retries inside kafkajs: on a retry it regroups messages by the partitions' current leaders but sends only
      // to brokers that have not answered yet, so a partition whose leadership moved to a broker that already
      // answered (a rolling restart) is acknowledged without being written. A failed call fails whole instead, and
      // the bridge retries it (spool, replay with a new producer): at-least-once, never a loss.
      retry: { retries: 0 },
    })
    // Only the producer in use speaks for the connection: an old one being let go does not.
    fresh.on(fresh.events.CONNECT, () => {
      if (producer === fresh) state = 'connected'
    })
    fresh.on(fresh.events.DISCONNECT, () => {
      if (producer === fresh && state !== 'closed') state = 'unreachable'
    })
    return fresh
  }
  let producer: Producer
  producer = newProducer()
  /**
   * After a failed produce call the next send starts a new producer, so nothing of the failed call's state is
   * carried over. It was needed while the producer was idempotent: kafkajs rolls back the sequences of every
   * partition of a failed request, also those the broker wrote, and the next batch was then refused for ever
   * (OUT_OF_ORDER_SEQUENCE_NUMBER) or, with the same record count, acknowledged as a duplicate and never written
   * (test/integration/kafka-edge.test.ts). The producer is no longer idempotent (above); the renewal stays as the
   * guard should idempotence ever be turned back on, at the cost of one reconnect per failed call.
   */
  let suspect = false

  async function renewProducer(): Promise<void> {
    const old = producer
    producer = newProducer()
    await waitAtMost(old.disconnect().catch(() => undefined), options.connectionTimeoutMs)
    await producer.connect()
    suspect = false
  }

  const admin = kafka.admin()
  // A DV2000 record holds the message twice (typed and as sent) and a dead letter the whole body: room for
  // the largest body accepted, which Kafka's 1 MB default would refuse for ever, retries or not.
  const maxMessageBytes = Math.max(1_048_588, 2 * config.http.bodyLimitBytes + 131_072)
  let state: KafkaState = 'connecting'
  let prepared = false
  const newTopic = (topic: string): ITopicConfig => ({
    topic,
    numPartitions: topicOptions.partitions,
    replicationFactor: topicOptions.replicationFactor,
    configEntries: [
      { name: 'max.message.bytes', value: String(maxMessageBytes) },
      ...(topicOptions.minInsyncReplicas === -1 ? [] : [{ name: 'min.insync.replicas', value: String(topicOptions.minInsyncReplicas) }]),
    ],
  })

  /**
   * A topic just created is unknown to a broker's metadata for a moment (KRaft propagates it): a produce meanwhile
   * is refused as UNKNOWN_TOPIC_OR_PARTITION. Waits, bounded, until it is there.
   */
  async function untilInMetadata(topic: string): Promise<void> {
    const until = Date.now() + options.connectionTimeoutMs * 3
    for (let pause = 20; ; pause = Math.min(500, pause * 2)) {
      try {
        await admin.fetchTopicMetadata({ topics: [topic] })
        return
      } catch (error) {
        if (Date.now() + pause > until) throw wrapKafkaError(error, `waiting for topic ${topic} to appear in the brokers' metadata`)
      }
      await new Promise((resolve) => setTimeout(resolve, pause))
    }
  }

  return {
    get state() {
      return state
    },
    get prepared() {
      return prepared
    },
    async prepare(topics) {
      await this.connect()
      const created = topicOptions.create ? await this.ensureTopics(topics) : []
      prepared = true
      return created
    },
    async connect() {
      try {
        await producer.connect()
        await admin.connect()
        state = 'connected'
        prepared = true
      } catch (error) {
        state = 'unreachable'
        throw wrapKafkaError(error, 'connecting')
      }
    },
    async prepareTopic(topic) {
      try {
        if ((await admin.listTopics()).includes(topic)) return 'exists'
      } catch (error) {
        throw wrapKafkaError(error, `listing topics to find ${topic}`)
      }
      // Not listed: missing, or not visible to this principal (no DESCRIBE on it).
      if (!topicOptions.create) {
        throw new BridgeError(ErrorCodes.KAFKA_TOPIC_MISSING, `topic ${topic} does not exist (or the bridge may not describe it) and topics.create is off: create it, or grant DESCRIBE`)
      }
      try {
        await admin.createTopics({ waitForLeaders: true, topics: [newTopic(topic)] })
      } catch (error) {
        const wrapped = wrapKafkaError(error, `creating topic ${topic}`)
        // The broker answered no (replication factor above the cluster's size, a policy): the topic stays missing.
        if (wrapped.retriable && brokerRefused(error)) {
          throw new BridgeError(ErrorCodes.KAFKA_TOPIC_MISSING, `Kafka refused to create topic ${topic}: ${describe(error)}`, { cause: error })
        }
        throw wrapped
      }
      await untilInMetadata(topic)
      return 'created'
    },
    async topicExists(topic) {
      return (await admin.listTopics()).includes(topic)
    },
    async send(records) {
      if (!prepared) throw new BridgeError(ErrorCodes.KAFKA_UNAVAILABLE, 'Kafka has not been reached yet', { retriable: true })
      const byTopic = new Map<string, Message[]>()
      for (const r of records) {
        let list = byTopic.get(r.topic)
        if (list === undefined) byTopic.set(r.topic, (list = []))
        // No timestamp of ours: Kafka's is the produce time. The receipt time (received_at) as the record's timestamp
        // would let a topic's retention delete at once a record replayed after a long outage, or a replayed dead letter.
        list.push({ key: r.key, value: r.value, headers: r.headers })
      }
      try {
        if (suspect) await renewProducer()
        await producer.sendBatch({ acks: -1, topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })) })
        state = 'connected'
      } catch (error) {
        suspect = true
        const wrapped = wrapKafkaError(error, `producing ${records.length} record(s)`)
        if (wrapped.retriable) state = 'unreachable'
        throw wrapped
      }
    },
    async ensureTopics(topics) {
      try {
        const existing = new Set(await admin.listTopics())
        const missing = [...new Set(topics)].filter((t) => !existing.has(t))
        if (missing.length === 0) return []
        await admin.createTopics({ waitForLeaders: true, topics: missing.map(newTopic) })
        return missing
      } catch (error) {
        throw wrapKafkaError(error, 'creating topics')
      }
    },
    async underReplicated(topics) {
      const unique = [...new Set(topics)]
      const [{ topics: metadata }, configs] = await Promise.all([
        admin.fetchTopicMetadata({ topics: unique }),
        admin.describeConfigs({ includeSynonyms: false, resources: unique.map((name) => ({ type: TOPIC_RESOURCE, name, configNames: ['min.insync.replicas'] })) }),
      ])
      const minOf = new Map(configs.resources.map((r) => [r.resourceName, Number(r.configEntries.find((e) => e.configName === 'min.insync.replicas')?.configValue ?? 1)]))
      return metadata.flatMap((t) =>
        t.partitions
          .filter((p) => p.isr.length < (minOf.get(t.name) ?? 1))
          .map((p) => ({ topic: t.name, partition: p.partitionId, inSync: p.isr.length, minInSync: minOf.get(t.name) ?? 1 })),
      )
    },
    async probe() {
      try {
        await within(admin.describeCluster(), options.connectionTimeoutMs, () => new Error('probe timed out'))
        if (state !== 'closed') state = 'connected'
        return true
      } catch {
        if (state !== 'closed') state = 'unreachable'
        return false
      }
    },
    async close() {
      state = 'closed'
      await Promise.allSettled([producer.disconnect(), admin.disconnect()])
    },
  }
}
