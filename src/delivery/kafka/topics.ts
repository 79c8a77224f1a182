// The bridge's topics on the cluster: created when allowed and missing, waited for in the brokers' metadata, checked for in-sync replicas.
import type { Admin, ConfigResourceTypes, ITopicConfig } from 'kafkajs'
import type { BridgeConfig } from '../../config/schema.js'
import { BridgeError, ErrorCodes } from '../../errors.js'
import { brokerRefused, describeKafkaError, wrapKafkaError } from './errors.js'

/** ConfigResourceTypes.TOPIC: kafkajs (CommonJS) does not expose that enum to Node's ESM loader, only to bundlers. */
const TOPIC_RESOURCE = 2 as ConfigResourceTypes

export interface TopicAdmin {
  /**
   * Makes sure one topic can be written: creates it when missing and topics.create is on. Rejects with the refusal
   * that holds it (KAFKA_UNAUTHORIZED, KAFKA_TOPIC_MISSING) or, when Kafka did not answer, as unavailable.
   */
  prepareTopic(topic: string): Promise<'created' | 'exists'>
  /** Is the topic listed (and so visible to this principal)? A produce refused as UNKNOWN_TOPIC may be a broker catching up. */
  topicExists(topic: string): Promise<boolean>
  /** Creates the missing ones of `topics` at once (the replay commands); resolves with those created. */
  ensureTopics(topics: readonly string[]): Promise<string[]>
  /** Partitions of these topics with fewer in-sync replicas than their min.insync.replicas: acks=all fails there. */
  underReplicated(topics: readonly string[]): Promise<{ topic: string; partition: number; inSync: number; minInSync: number }[]>
}

export function createTopicAdmin(admin: Admin, config: BridgeConfig): TopicAdmin {
  const { topics: options } = config
  // A DV2000 record holds the message twice (typed and as sent) and a dead letter the whole body: room for
  // the largest body accepted, which Kafka's 1 MB default would refuse for ever, retries or not.
  const maxMessageBytes = Math.max(1_048_588, 2 * config.http.bodyLimitBytes + 131_072)
  const newTopic = (topic: string): ITopicConfig => ({
    topic,
    numPartitions: options.partitions,
    replicationFactor: options.replicationFactor,
    configEntries: [
      { name: 'max.message.bytes', value: String(maxMessageBytes) },
      ...(options.minInsyncReplicas === -1 ? [] : [{ name: 'min.insync.replicas', value: String(options.minInsyncReplicas) }]),
    ],
  })

  /**
   * A topic just created is unknown to a broker's metadata for a moment (KRaft propagates it): a produce meanwhile
   * is refused as UNKNOWN_TOPIC_OR_PARTITION. Waits, bounded, until it is there.
   */
  async function untilInMetadata(topic: string): Promise<void> {
    const until = Date.now() + config.kafka.connectionTimeoutMs * 3
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
    async prepareTopic(topic) {
      try {
        if ((await admin.listTopics()).includes(topic)) return 'exists'
      } catch (error) {
        throw wrapKafkaError(error, `listing topics to find ${topic}`)
      }
      // Not listed: missing, or not visible to this principal (no DESCRIBE on it).
      if (!options.create) {
        throw new BridgeError(ErrorCodes.KAFKA_TOPIC_MISSING, `topic ${topic} does not exist (or the bridge may not describe it) and topics.create is off: create it, or grant DESCRIBE`)
      }
      try {
        await admin.createTopics({ waitForLeaders: true, topics: [newTopic(topic)] })
      } catch (error) {
        const wrapped = wrapKafkaError(error, `creating topic ${topic}`)
        // The broker answered no (replication factor above the cluster's size, a policy): the topic stays missing.
        if (wrapped.retriable && brokerRefused(error)) {
          throw new BridgeError(ErrorCodes.KAFKA_TOPIC_MISSING, `Kafka refused to create topic ${topic}: ${describeKafkaError(error)}`, { cause: error })
        }
        throw wrapped
      }
      await untilInMetadata(topic)
      return 'created'
    },
    async topicExists(topic) {
      return (await admin.listTopics()).includes(topic)
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
      ]).catch((error: unknown) => {
        throw wrapKafkaError(error, "describing the topics' configs")
      })
      const minOf = new Map(configs.resources.map((r) => [r.resourceName, Number(r.configEntries.find((e) => e.configName === 'min.insync.replicas')?.configValue ?? 1)]))
      return metadata.flatMap((t) =>
        t.partitions
          .filter((p) => p.isr.length < (minOf.get(t.name) ?? 1))
          .map((p) => ({ topic: t.name, partition: p.partitionId, inSync: p.isr.length, minInSync: minOf.get(t.name) ?? 1 })),
      )
    },
  }
}
