#!/usr/bin/env node
// Exit 0 when Kafka serves produce requests: enough brokers registered, every partition led, and an acks=all
// produce to a probe topic acknowledged. Answering metadata is not enough: after a kill -9 a KRaft broker does
// that while its registration is still refused (DuplicateBrokerRegistrationException) for up to a minute.
// Usage: node scripts/kafka-ready.mjs BROKERS [REPLICAS] [NODE_ID]   (used by scripts/stack.sh; prints why not on stderr)
// REPLICAS: the probe topic's replication factor (the cluster's size); NODE_ID: this node must be registered.
// A secured broker: KAFKA_READY_CA (a PEM file: TLS trusting it) and KAFKA_READY_SASL_USERNAME / _PASSWORD (SCRAM-SHA-512).
import { readFileSync } from 'node:fs'
import { Kafka, logLevel } from 'kafkajs'

const [brokers, replicasText = '1', nodeText] = process.argv.slice(2)
if (brokers === undefined || brokers === '--help' || brokers === '-h') {
  process.stderr.write('usage: node scripts/kafka-ready.mjs BROKERS [REPLICAS] [NODE_ID]\n')
  process.exit(2)
}
const replicas = Number(replicasText)
const nodeId = nodeText === undefined ? undefined : Number(nodeText)
const PROBE_TOPIC = '__stack_ready'

const ca = process.env['KAFKA_READY_CA']
const username = process.env['KAFKA_READY_SASL_USERNAME']
const kafka = new Kafka({
  clientId: 'stack-ready',
  brokers: brokers.split(','),
  ...(ca === undefined ? {} : { ssl: { ca: [readFileSync(ca, 'utf8')] } }),
  ...(username === undefined ? {} : { sasl: { mechanism: 'scram-sha-512', username, password: process.env['KAFKA_READY_SASL_PASSWORD'] ?? '' } }),
  logLevel: logLevel.NOTHING,
  connectionTimeout: 2_000,
  requestTimeout: 5_000,
  retry: { retries: 0 },
})
const admin = kafka.admin()
const producer = kafka.producer({ allowAutoTopicCreation: false, retry: { retries: 1, initialRetryTime: 200 } })
const limit = setTimeout(() => notReady('no answer within 15 s'), 15_000)

function notReady(why) {
  process.stderr.write(`kafka not ready: ${why}\n`)
  process.exit(1)
}

try {
  await admin.connect()
  const { brokers: registered } = await admin.describeCluster()
  if (nodeId !== undefined && !registered.some((b) => b.nodeId === nodeId)) notReady(`node ${nodeId} is not registered (registered: ${registered.map((b) => b.nodeId).join(', ')})`)
  const topics = await admin.listTopics()
  if (!topics.includes(PROBE_TOPIC)) {
    // Created once the whole cluster is registered: with every node as a replica, an acks=all produce needs min.insync.replicas of them.
    if (registered.length < replicas) notReady(`${registered.length} of ${replicas} brokers registered`)
    await admin.createTopics({ waitForLeaders: true, topics: [{ topic: PROBE_TOPIC, numPartitions: 1, replicationFactor: replicas }] })
  }
  const metadata = await admin.fetchTopicMetadata({ topics: topics.filter((t) => !t.startsWith('__')) })
  const leaderless = metadata.topics.flatMap((t) => t.partitions.filter((p) => p.leader < 0).map((p) => `${t.name}/${p.partitionId}`))
  if (leaderless.length > 0) notReady(`partitions without a leader: ${leaderless.slice(0, 5).join(', ')}`)
  await producer.connect()
  await producer.send({ topic: PROBE_TOPIC, acks: -1, messages: [{ value: 'ready' }] })
  clearTimeout(limit)
  await Promise.allSettled([producer.disconnect(), admin.disconnect()])
  process.exit(0)
} catch (error) {
  notReady(error instanceof Error ? error.message : String(error))
}
