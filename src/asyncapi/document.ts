// The AsyncAPI 3 document of a config: every topic its sources write, with key, Avro payload, headers and Kafka bindings.
import type { BridgeConfig } from '../config/schema.js'
import { DEAD_LETTER_KEY, DEAD_LETTER_SCHEMA, DEAD_LETTER_TOPIC } from '../dead-letter.js'
import { finalTopic } from '../pipeline.js'
import { CLOUDEVENTS_TYPE_PREFIX, sourcePath, type SchemaName } from '../records.js'
import type { SourceRegistry } from '../sources/index.js'

/** The bindings' version of the AsyncAPI Kafka bindings this document follows (servers, channels, operations, messages). */
const KAFKA_BINDING_VERSION = '0.5.0'
const AVRO_SCHEMA_FORMAT = 'application/vnd.apache.avro;version=1.9.0'

export interface DocumentInputs {
  config: BridgeConfig
  sources: SourceRegistry
  /** Each schema's Avro text, parsed (the package's schemas/*.avsc). */
  avroSchemas: ReadonlyMap<SchemaName, unknown>
  version: string
}

/** What one topic carries: from which sources, with which schema, keyed how. */
interface TopicPlan {
  topic: string
  schema: SchemaName
  key: string
  /** The sources that write it, id and sender type: ce_source and ce_type say which. */
  writers: { id: string; type: string }[]
}

type Json = Record<string, unknown>

/** Every (topic, schema) the configured sources write; a topic two sources share lists both as its writers. */
function topicPlans({ config, sources }: Pick<DocumentInputs, 'config' | 'sources'>): TopicPlan[] {
  const plans = new Map<string, TopicPlan>()
  const add = (topic: string, schema: SchemaName, key: string, writer: { id: string; type: string }): void => {
    const id = `${topic}\u0000${schema}`
    const plan = plans.get(id) ?? { topic, schema, key, writers: [] }
    plan.writers.push(writer)
    plans.set(id, plan)
  }
  for (const source of config.sources) {
    const component = sources.componentFor(source)
    if (component === undefined) continue
    const writer = { id: source.id, type: source.type }
    for (const topic of component.topics(source)) add(finalTopic(config, source, topic), component.schema, component.keyOf(topic), writer)
    add(finalTopic(config, source, DEAD_LETTER_TOPIC), DEAD_LETTER_SCHEMA.name, DEAD_LETTER_KEY, writer)
  }
  return [...plans.values()].sort((a, b) => a.topic.localeCompare(b.topic) || a.schema.localeCompare(b.schema))
}

/** The registry's vendor, as far as its URL tells: Apicurio serves the Confluent API under /apis/ccompat/. */
function registryVendor(url: string): string {
  return new URL(url).pathname.includes('/apis/ccompat/') ? 'apicurio' : 'confluent'
}

/** How the bridge authenticates to Kafka, as AsyncAPI security scheme types. */
function securitySchemes(config: BridgeConfig): Record<string, Json> {
  const schemes: Record<string, Json> = {}
  const { sasl, certFile } = config.kafka
  if (sasl !== undefined) {
    const type = { plain: 'plain', 'scram-sha-256': 'scramSha256', 'scram-sha-512': 'scramSha512' }[sasl.mechanism]
    schemes['sasl'] = { type, description: `SASL/${sasl.mechanism.toUpperCase()}: each consumer authenticates as a principal of its own.` }
  }
  if (certFile !== undefined) schemes['mutualTls'] = { type: 'X509', description: 'Mutual TLS: the broker asks each client for a certificate.' }
  return schemes
}

function servers(config: BridgeConfig, schemes: Record<string, Json>): Record<string, Json> {
  const registryUrl = config.schemaRegistry.url
  const out: Record<string, Json> = {}
  config.kafka.brokers.forEach((broker, index) => {
    out[`broker-${index + 1}`] = {
      host: broker,
      protocol: config.kafka.ssl ? 'kafka-secure' : 'kafka',
      description: `A bootstrap broker of the cluster the bridge writes to (${config.kafka.brokers.length} listed). Values are Avro in the Confluent wire format; their schemas are at ${registryUrl}.`,
      ...(Object.keys(schemes).length === 0 ? {} : { security: Object.keys(schemes).map((name) => ({ $ref: `#/components/securitySchemes/${name}` })) }),
      bindings: { kafka: { schemaRegistryUrl: registryUrl, schemaRegistryVendor: registryVendor(registryUrl), bindingVersion: KAFKA_BINDING_VERSION } },
    }
  })
  return out
}

/** The headers every record carries: the bridge's own and CloudEvents' binary mode (SPEC §3). */
function headers(plan: TopicPlan): Json {
  const types = [...new Set(plan.writers.map((w) => w.type))]
  const ceType: Json =
    plan.schema === DEAD_LETTER_SCHEMA.name
      ? { enum: types.map((type) => `${CLOUDEVENTS_TYPE_PREFIX}.${type}.deadletter`) }
      : { pattern: `^${CLOUDEVENTS_TYPE_PREFIX.replaceAll('.', '\\.')}\\.(${types.join('|')})\\.`, description: `${CLOUDEVENTS_TYPE_PREFIX}.{sender type}.{what happened}: a DV2000 event name, or a Servio entity.action (docs/schemas-and-consumers.md lists them all).` }
  const string = (more: Json): Json => ({ type: 'string', ...more })
  return {
    type: 'object',
    description: 'Kafka headers, UTF-8 strings.',
    required: ['event_id', 'source', 'received_at', 'ce_specversion', 'ce_id', 'ce_source', 'ce_type', 'ce_time', 'content-type'],
    properties: {
      event_id: string({ format: 'uuid', description: "The record's own id, given by the bridge: unique per record; drop a record whose event_id you have seen (delivery is at least once)." }),
      source: string({ enum: plan.writers.map((w) => w.id), description: 'The id of the bridge source that received it.' }),
      received_at: string({ format: 'date-time', description: 'When the bridge received it (ISO 8601, UTC).' }),
      ce_specversion: string({ const: '1.0' }),
      ce_id: string({ format: 'uuid', description: 'The same as event_id.' }),
      ce_source: string({ enum: plan.writers.map((w) => sourcePath(w.type, w.id)), description: 'The path the source posts to: /v1/{sender type}/{source id}.' }),
      ce_type: string(ceType),
      ce_time: string({ format: 'date-time', description: 'When it happened if the sender says so (DV2000 timestamp), else received_at.' }),
      'content-type': string({ const: 'application/avro' }),
    },
  }
}

/** A channel id and component name safe for JSON pointers and AsyncAPI's key pattern: the topic and schema as written. */
const channelId = (plan: TopicPlan, shared: boolean): string => (shared ? `${plan.topic}.${plan.schema}` : plan.topic)

/** The AsyncAPI 3.1 document of `config`: a plain object, ready for YAML or JSON. */
export function asyncApiDocument(inputs: DocumentInputs): Json {
  const { config, avroSchemas, version } = inputs
  const plans = topicPlans(inputs)
  const schemes = securitySchemes(config)
  const topicsWithSchemas = new Map<string, number>()
  for (const plan of plans) topicsWithSchemas.set(plan.topic, (topicsWithSchemas.get(plan.topic) ?? 0) + 1)
  const channels: Record<string, Json> = {}
  const operations: Record<string, Json> = {}
  for (const plan of plans) {
    const id = channelId(plan, topicsWithSchemas.get(plan.topic)! > 1)
    const avro = avroSchemas.get(plan.schema)
    if (avro === undefined) throw new Error(`no Avro schema named ${plan.schema}`)
    channels[id] = {
      address: plan.topic,
      title: plan.topic,
      description: `Written by ${plan.writers.map((w) => `${w.id} (${w.type})`).join(', ')}. Subject ${plan.topic}-value.`,
      messages: {
        [plan.schema]: {
          name: plan.schema,
          contentType: 'application/avro',
          headers: headers(plan),
          payload: { $ref: `#/components/schemas/${plan.schema}` },
          bindings: {
            kafka: {
              key: { type: 'string', description: plan.key },
              schemaIdLocation: 'payload',
              schemaIdPayloadEncoding: 'confluent',
              schemaLookupStrategy: 'TopicIdStrategy',
              bindingVersion: KAFKA_BINDING_VERSION,
            },
          },
        },
      },
      bindings: {
        kafka: {
          topic: plan.topic,
          partitions: config.topics.partitions,
          ...(config.topics.replicationFactor > 0 ? { replicas: config.topics.replicationFactor } : {}),
          bindingVersion: KAFKA_BINDING_VERSION,
        },
      },
    }
    const channel = { $ref: `#/channels/${id}` }
    const messages = [{ $ref: `#/channels/${id}/messages/${plan.schema}` }]
    operations[`send.${id}`] = { action: 'send', channel, messages, summary: `The bridge writes ${plan.topic} (acks=all).` }
    operations[`receive.${id}`] = {
      action: 'receive',
      channel,
      messages,
      summary: `A consumer reads ${plan.topic}.`,
      description: 'Order holds per key. Delivery is at least once: drop duplicates by event_id (header or value).',
    }
  }
  const schemaNames = [...new Set(plans.map((p) => p.schema))].sort()
  return {
    asyncapi: '3.1.0',
    info: {
      title: 'hotel-kafka-bridge topics',
      version,
      description:
        'The topics the configured sources of a hotel-kafka-bridge write: DuVoice DV2000 and Servio HMS webhooks as Avro records ' +
        `(Confluent wire format, subject {topic}-value), with CloudEvents headers in binary mode.${config.topicPrefix === '' ? '' : ` Every topic carries the prefix "${config.topicPrefix}".`}`,
    },
    defaultContentType: 'application/avro',
    servers: servers(config, schemes),
    channels,
    operations,
    components: {
      schemas: Object.fromEntries(schemaNames.map((name) => [name, { schemaFormat: AVRO_SCHEMA_FORMAT, schema: avroSchemas.get(name) }])),
      ...(Object.keys(schemes).length === 0 ? {} : { securitySchemes: schemes }),
    },
  }
}
