// The kafkajs edge against the real broker: a produce call that fails on one partition must not make the next one lose records.
import { randomUUID } from 'node:crypto'
import { Partitioners } from 'kafkajs'
import { describe, expect, it } from 'vitest'
import { createKafkaEdge } from '../../src/delivery/kafka/index.js'
import { createLogger } from '../../src/observability/logger.js'
import { testConfig } from './support/bridge.js'
import { consume, createTopic } from './support/kafka.js'

const murmur2 = Partitioners.DefaultPartitioner()

/** A key that lands on `partition` of a two-partition topic, as the bridge's partitioner places it. */
function keyFor(topic: string, partition: number): string {
  for (let i = 0; ; i++) {
    const key = `k-${i}`
    const chosen = murmur2({ topic, partitionMetadata: [0, 1].map((partitionId) => ({ partitionId, leader: 1 })), message: { key } } as never)
    if (chosen === partition) return key
  }
}

describe('Kafka edge', () => {
  it('writes the next batch for real after a call that Kafka refused on one partition and wrote on another', async () => {
    const config = testConfig()
    const topic = `${config.topicPrefix}edge-${randomUUID().slice(0, 8)}`
    await createTopic(topic, { 'max.message.bytes': '2048' }, 2)
    const edge = createKafkaEdge(config, createLogger('silent'))
    try {
      await edge.prepare([topic])
      const record = (key: string, id: string, bytes: number) => ({ topic, key, value: Buffer.alloc(bytes, 0x61), headers: { event_id: id } })
      const [onZero, onOne] = [keyFor(topic, 0), keyFor(topic, 1)]
      // Partition 0 refuses its record (too large); partition 1 writes its own in the same request.
      await expect(edge.send([record(onZero, 'too-large', 4_000), record(onOne, 'first', 100)])).rejects.toMatchObject({ code: 'KAFKA_REJECTED' })
      // One record again on partition 1: kafkajs rolled its sequence back, so the broker would take it for a duplicate of 'first'.
      await edge.send([record(onOne, 'second', 100)])
      const records = await consume(topic, (r) => r.some((x) => x.headers['event_id'] === 'second'), 20_000, { raw: true })
      expect(records.map((r) => r.headers['event_id'])).toEqual(expect.arrayContaining(['first', 'second']))
      expect(records.some((r) => r.headers['event_id'] === 'too-large')).toBe(false)
    } finally {
      await edge.close()
    }
  })

  it('creates topics with topics.minInsyncReplicas and finds the partitions below it (one broker cannot hold two in sync)', async () => {
    const config = testConfig({ topics: { partitions: 2, minInsyncReplicas: 2 } })
    const topic = `${config.topicPrefix}isr-${randomUUID().slice(0, 8)}`
    const edge = createKafkaEdge(config, createLogger('silent'))
    try {
      await edge.prepare([topic])
      expect(await edge.underReplicated([topic])).toEqual([
        { topic, partition: 0, inSync: 1, minInSync: 2 },
        { topic, partition: 1, inSync: 1, minInSync: 2 },
      ])
    } finally {
      await edge.close()
    }
  })
})
