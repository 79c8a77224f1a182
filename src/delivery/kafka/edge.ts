// The kafkajs edge the bridge produces through: one client, an acks=all producer (one request in flight, no internal retries), its state.
import { Partitioners, type Message } from 'kafkajs'
import type { BridgeConfig } from '../../config/schema.js'
import { within } from '../../deadline.js'
import { BridgeError, ErrorCodes } from '../../errors.js'
import type { Logger } from '../../observability/logger.js'
import type { OutboundRecord } from '../types.js'
import { createKafkaClient } from './connection.js'
import { connectionRefusal, wrapKafkaError } from './errors.js'
import { createTopicAdmin, type TopicAdmin } from './topics.js'

export type KafkaState = 'connecting' | 'connected' | 'unreachable' | 'closed'

export interface KafkaEdge extends TopicAdmin {
  readonly state: KafkaState
  /** Connected once: produce calls may be made. */
  readonly prepared: boolean
  /** Why Kafka refuses the connection (authentication failed, certificate not trusted or required), until it accepts it. */
  readonly refusal: string | undefined
  /** Connects and creates the missing ones of `topics` (the replay commands); resolves when produce calls may be made. */
  prepare(topics: readonly string[]): Promise<string[]>
  /** Connects the producer and the admin client; produce calls may be made from here on. */
  connect(): Promise<void>
  send(records: OutboundRecord[]): Promise<void>
  /** A metadata round trip, bounded by the connection timeout: is the cluster reachable now? */
  probe(): Promise<boolean>
  close(): Promise<void>
}

export function createKafkaEdge(config: BridgeConfig, logger: Logger): KafkaEdge {
  const { kafka: options } = config
  const kafka = createKafkaClient(config, logger)
  const producer = kafka.producer({
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
    // the bridge sends it again whole (the batcher's resend, the spool's replay): at-least-once, never a loss.
    retry: { retries: 0 },
  })
  const admin = kafka.admin()
  const topics = createTopicAdmin(admin, config)
  let state: KafkaState = 'connecting'
  let prepared = false
  let refusal: string | undefined
  /** Kafka's answer to a connection: a refusal to fix in our settings is kept for /readyz until one succeeds. */
  const connected = (): void => {
    refusal = undefined
    if (state !== 'closed') state = 'connected'
  }
  const failed = (error: unknown): void => {
    refusal = connectionRefusal(error) ?? refusal
    if (state !== 'closed') state = 'unreachable'
  }
  producer.on(producer.events.CONNECT, () => {
    if (state !== 'closed') state = 'connected'
  })
  producer.on(producer.events.DISCONNECT, () => {
    if (state !== 'closed') state = 'unreachable'
  })

  return {
    ...topics,
    get state() {
      return state
    },
    get prepared() {
      return prepared
    },
    get refusal() {
      return refusal
    },
    async prepare(names) {
      await this.connect()
      return config.topics.create ? topics.ensureTopics(names) : []
    },
    async connect() {
      try {
        await producer.connect()
        await admin.connect()
        connected()
        prepared = true
      } catch (error) {
        failed(error)
        throw wrapKafkaError(error, 'connecting')
      }
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
        await producer.sendBatch({ acks: -1, topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })) })
        connected()
      } catch (error) {
        const wrapped = wrapKafkaError(error, `producing ${records.length} record(s)`)
        if (wrapped.retriable) failed(error)
        throw wrapped
      }
    },
    async probe() {
      try {
        await within(admin.describeCluster(), options.connectionTimeoutMs, () => new Error('probe timed out'))
        connected()
        return true
      } catch (error) {
        failed(error)
        return false
      }
    },
    async close() {
      state = 'closed'
      await Promise.allSettled([producer.disconnect(), admin.disconnect()])
    },
  }
}
