// Every record is a CloudEvent in the Kafka protocol binding's binary mode (SPEC §3): read back from the real broker and
// turned into CloudEvents by the cloudevents package's own Kafka binding, a DV2000 event, a Servio change and a dead letter.
import { Kafka, type CloudEventV1, type KafkaMessage } from 'cloudevents'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { roomUpdateText } from '../fixtures/dv2000/index.js'
import { servioFixture } from '../fixtures/servio/index.js'
import { DV2000_SECRET, SERVIO_SECRET, startBridge, testConfig, type RunningBridge } from './support/bridge.js'
import { consume, post, type ConsumedRecord } from './support/kafka.js'

describe('CloudEvents headers', () => {
  let bridge: RunningBridge
  let prefix: string
  beforeAll(async () => {
    const config = testConfig()
    prefix = config.topicPrefix
    bridge = await startBridge(config)
  })
  afterAll(async () => {
    await bridge?.close()
  })

  it('a DV2000 event, a Servio change and a dead letter each read as a CloudEvent with every attribute', async () => {
    const dv2000 = await post(`${bridge.url}/v1/dv2000/front-desk?token=${DV2000_SECRET}`, roomUpdateText())
    const servio = await post(`${bridge.url}/v1/servio/kyiv-central?token=${SERVIO_SECRET}`, servioFixture('guest-1-add.json'))
    const refused = await post(`${bridge.url}/v1/dv2000/front-desk?token=${DV2000_SECRET}`, 'not json at all')
    expect([dv2000.status, servio.status, refused.status]).toEqual([200, 200, 400])

    const has = (records: ConsumedRecord[], topic: string) => records.some((r) => r.topic === `${prefix}${topic}`)
    const records = await consume(prefix, (r) => has(r, 'dv2000.hospitality') && has(r, 'servio.guests') && has(r, 'bridge.deadletter'), 60_000)
    const byTopic = (topic: string): ConsumedRecord => records.find((r) => r.topic === `${prefix}${topic}`)!
    // One message is one event (the binding returns a list only for a batch).
    const asCloudEvent = (r: ConsumedRecord): CloudEventV1<unknown> => {
      const message: KafkaMessage = { key: r.key ?? '', value: r.rawValue, headers: r.headers, timestamp: String(r.timestamp), body: r.rawValue }
      return Kafka.toEvent(message) as CloudEventV1<unknown>
    }

    const room = byTopic('dv2000.hospitality')
    expect(asCloudEvent(room)).toMatchObject({
      specversion: '1.0',
      id: dv2000.json['event_id'],
      source: '/v1/dv2000/front-desk',
      type: 'org.hotel-kafka-bridge.dv2000.room_update',
      // The event's own timestamp, 2023-09-13T08:07:46-07:00.
      time: '2023-09-13T15:07:46.000Z',
      datacontenttype: 'application/avro',
      partitionkey: '100-101',
    })
    expect(asCloudEvent(room).data).toEqual(room.rawValue)

    const guest = byTopic('servio.guests')
    expect(asCloudEvent(guest)).toMatchObject({ specversion: '1.0', id: guest.headers['event_id'], source: '/v1/servio/kyiv-central', type: 'org.hotel-kafka-bridge.servio.guest.add', time: guest.headers['received_at'], datacontenttype: 'application/avro' })
    // Each Servio record is an event of its own, not its batch.
    expect(guest.headers['event_id']).not.toBe(servio.json['batch_id'])

    const letter = byTopic('bridge.deadletter')
    expect(asCloudEvent(letter)).toMatchObject({ specversion: '1.0', id: refused.json['event_id'], source: '/v1/dv2000/front-desk', type: 'org.hotel-kafka-bridge.dv2000.deadletter', time: letter.headers['received_at'], datacontenttype: 'application/avro' })
    // The bridge's own headers stay.
    for (const r of [room, guest, letter]) expect(Object.keys(r.headers)).toEqual(expect.arrayContaining(['event_id', 'source', 'received_at']))
  })
})
