#!/usr/bin/env node
// Exit 0 when Kafka serves produce requests: enough brokers registered, every partition led, and an acks=all
// produce to a probe topic acknowledged. Answering metadata is not enough: after a kill -9 a KRaft broker does
// that while its registration is still refused (DuplicateBrokerRegistrationException) for up to a minute.
// Usage: node scripts/kafka-ready.mjs BROKERS [EXPECTED_BROKERS]   (used by scripts/stack.sh; prints why not on stderr)
import { Kafka, logLevel } from 'kafkajs'

const [brokers, expectedText = '1'] = process.argv.slice(2)
if (brokers === undefined || brokers === '--help' || brokers === '-h') {
  process.stderr.write('usage: node scripts/kafka-ready.mjs BROKERS [EXPECTED_BROKERS]\n')
  process.exit(2)
}
const expected = Number(expectedText)
const PROBE_TOPIC = '__stack_ready'

const kafka = new Kafka({
  clientId: 'stack-ready',
  brokers: brokers.split(','),
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
  if (registered.length < expected) notReady(`${registered.length} of ${expected} brokers registered`)
  const topics = await admin.listTopics()
  if (!topics.includes(PROBE_TOPIC)) {
    await admin.createTopics({ waitForLeaders: true, topics: [{ topic: PROBE_TOPIC, numPartitions: 1, replicationFactor: Math.min(3, expected) }] })
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
