// DV2000 end to end: real HTTP in, real Kafka out, values decoded through the real registry.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { rawPostExample, roomUpdateText } from '../fixtures/dv2000/index.js'
import { DV2000_SECRET, startBridge, type RunningBridge } from './support/bridge.js'
import { consume, post, registryClient, type ConsumedRecord } from './support/kafka.js'

const ROOM_UPDATE = roomUpdateText()
const RAW_POST_EXAMPLE = rawPostExample()

function packet(category: number, event: number, message: unknown, serviceId = 1064): string {
  return JSON.stringify({
    category,
    date: '2023/09/13',
    event,
    message,
    service_id: serviceId,
    service_name: 'Visitant',
    time: '08:07:46',
    timestamp: '2023-09-13T08:07:46-07:00',
  })
}

describe('DV2000 to Kafka', () => {
  let bridge: RunningBridge
  const ingest = (source: string, query = `?token=${DV2000_SECRET}`): string => `${bridge.url}/v1/dv2000/${source}${query}`

  beforeAll(async () => {
    bridge = await startBridge()
  })
  afterAll(async () => {
    await bridge?.close()
  })

  it('produces the documented example to dv2000.hospitality with every contract field, key and header', async () => {
    const before = Date.now()
    const answer = await post(ingest('front-desk'), ROOM_UPDATE, { 'user-agent': 'DuVoice/8.0.20', connection: 'close', date: '2023-09-13T15:07:46Z' })
    expect(answer.status).toBe(200)
    expect(answer.json).toMatchObject({ status: 'produced', records: 1 })
    const eventId = answer.json['event_id'] as string
    expect(eventId).toMatch(/^[0-9a-f-]{36}$/)

    const records = await consume(`${bridge.prefix}dv2000.hospitality`, (r) => r.length >= 1)
    expect(records).toHaveLength(1)
    const [record] = records as [ConsumedRecord]
    expect(record.topic).toBe(`${bridge.prefix}dv2000.hospitality`)
    expect(record.key).toBe('100-101')
    expect(record.headers['event_id']).toBe(eventId)
    expect(record.headers['source']).toBe('front-desk')
    expect(record.headers['received_at']).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/)
    const receivedAt = Date.parse(record.headers['received_at']!)
    // Kafka's own timestamp is the produce time (at or after the receipt), so retention counts from delivery.
    expect(record.timestamp).toBeGreaterThanOrEqual(receivedAt)
    expect(receivedAt).toBeGreaterThanOrEqual(before - 1)
    expect(receivedAt).toBeLessThanOrEqual(Date.now())

    const v = record.value
    expect(v['event_id']).toBe(eventId)
    expect(v['source']).toBe('front-desk')
    // avsc decodes timestamp-millis as a Date; the instant must equal the header's.
    expect(new Date(v['received_at'] as Date).getTime()).toBe(receivedAt)
    expect(v).toMatchObject({
      category: 3,
      category_name: 'hospitality',
      event: 12,
      event_name: 'room_update',
      service_id: 1064,
      service_name: 'Visitant',
      date: '2023/09/13',
      time: '08:07:46',
      timestamp: '2023-09-13T08:07:46-07:00',
      extra_json: null,
      // Schema v2: which DV2000 version sent it.
      user_agent: 'DuVoice/8.0.20',
    })
    expect(new Date(v['occurred_at'] as Date).toISOString()).toBe('2023-09-13T15:07:46.000Z')
    expect(v['message']).toEqual({
      actor: 'Visitant',
      count: null,
      date: null,
      event: 12,
      firstname: 'Carmella',
      from: null,
      guestid: '15478364',
      isforsync: null,
      language: null,
      lastname: 'Galvano',
      line: null,
      maidstatus: '0',
      mailbox: '3101',
      room: '100-101',
      source: 'testapp',
      time: null,
      timestamp: '2023-09-13T08:07:46-07:00',
      to: null,
      vip: false,
    })
    // The message node exactly as sent, whitespace included.
    const sent = ROOM_UPDATE.slice(ROOM_UPDATE.indexOf('{', ROOM_UPDATE.indexOf('"message"')), ROOM_UPDATE.indexOf('}', ROOM_UPDATE.indexOf('"message"')) + 1)
    expect(v['message_json']).toBe(sent)
    expect(JSON.parse(v['message_json'] as string)).toMatchObject({ guestid: '15478364', vip: '0' })

    // Wire format: magic 0 + the id the registry holds for <topic>-value (topic-name strategy).
    expect(record.rawValue[0]).toBe(0)
    const latest = await registryClient().getLatestSchemaId(`${bridge.prefix}dv2000.hospitality-value`)
    expect(record.rawValue.readUInt32BE(1)).toBe(latest)
  })

  it('routes every category to its topic with the contract key, and accepts Bearer and Basic secrets', async () => {
    const sends: { body: string; auth: Record<string, string> }[] = [
      { body: packet(0, 0, 'Operator note', 7), auth: { authorization: `Bearer ${DV2000_SECRET}` } },
      { body: packet(1, 15, { line: '2' }, 12), auth: { authorization: `Basic ${Buffer.from(`dv:${DV2000_SECRET}`).toString('base64')}` } },
      { body: packet(2, 1, null, 1), auth: { authorization: 'Bearer it-rotated-secret' } },
      { body: packet(3, 11, { from: '100-101', to: '100-102', guestid: 14575183 }), auth: {} },
      { body: packet(9, 42, { anything: true }, 33), auth: {} },
    ]
    for (const { body, auth } of sends) {
      const query = Object.keys(auth).length === 0 ? `?token=${DV2000_SECRET}` : ''
      const answer = await post(ingest('front-desk', query), body, auth)
      expect(answer.status, body).toBe(200)
    }
    const records = await consume(bridge.prefix, (r) => r.filter((x) => !x.topic.endsWith('hospitality') || x.key === '100-102').length >= 5)
    const byTopic = new Map(records.map((r) => [r.topic.slice(bridge.prefix.length), r]))
    expect(byTopic.get('dv2000.general')?.key).toBe('7')
    expect(byTopic.get('dv2000.general')?.value).toMatchObject({ category_name: 'general', event_name: 'general_message', message: null, message_json: '"Operator note"' })
    expect(byTopic.get('dv2000.telephony')?.key).toBe('12')
    expect(byTopic.get('dv2000.telephony')?.value).toMatchObject({ event_name: 'sip_registration_failure', message: { line: 2 } })
    expect(byTopic.get('dv2000.system')?.key).toBe('1')
    expect(byTopic.get('dv2000.system')?.value).toMatchObject({ event_name: 'system_startup', message: null, message_json: 'null' })
    const move = records.find((r) => r.key === '100-102')
    expect(move?.topic).toBe(`${bridge.prefix}dv2000.hospitality`)
    expect(move?.value).toMatchObject({ event_name: 'room_move', message: { from: '100-101', to: '100-102', guestid: '14575183' } })
    expect(byTopic.get('dv2000.other')?.key).toBe('33')
    expect(byTopic.get('dv2000.other')?.value).toMatchObject({ category: 9, category_name: 'other', event: 42, event_name: 'unknown' })
  })
})

describe('DV2000 refusals', () => {
  let bridge: RunningBridge
  beforeAll(async () => {
    bridge = await startBridge()
  })
  afterAll(async () => {
    await bridge?.close()
  })

  it('sends the document’s invalid raw example to the dead letter byte for byte, and produces nothing for filtered, unauthorised or unknown posts', async () => {
    const url = (source: string, token = DV2000_SECRET): string => `${bridge.url}/v1/dv2000/${source}?token=${token}`
    const filtered = await post(url('hospitality-only'), packet(2, 1, null))
    expect(filtered.status).toBe(200)
    expect(filtered.json).toMatchObject({ status: 'filtered' })

    expect((await post(url('front-desk', 'wrong-secret'), packet(3, 12, { room: '1' }))).status).toBe(401)
    expect((await post(`${bridge.url}/v1/dv2000/front-desk`, packet(3, 12, { room: '1' }))).status).toBe(401)
    expect((await post(url('no-such-source'), packet(3, 12, { room: '1' }))).status).toBe(404)
    // A Servio source is not reachable on the DV2000 path.
    expect((await post(url('kyiv-central'), packet(3, 12, { room: '1' }))).status).toBe(404)

    const rejected = await post(url('front-desk'), RAW_POST_EXAMPLE, { 'user-agent': 'DuVoice/8.0.20' })
    expect(rejected.status).toBe(400)
    expect(rejected.json).toMatchObject({ status: 'rejected', error: 'BAD_INPUT' })
    expect(String(rejected.json['reason'])).toMatch(/not valid JSON/)

    // The only records under this bridge's prefix: the dead letter, then this sentinel.
    const sentinel = await post(url('hospitality-only'), packet(3, 9, { room: 'sentinel' }))
    expect(sentinel.status).toBe(200)
    const records = await consume(bridge.prefix, (r) => r.some((x) => x.key === 'sentinel') && r.some((x) => x.topic.endsWith('deadletter')))
    expect(records.map((r) => r.topic.slice(bridge.prefix.length)).sort()).toEqual(['bridge.deadletter', 'dv2000.hospitality'])
    const dead = records.find((r) => r.topic.endsWith('bridge.deadletter'))!
    expect(dead.key).toBe('front-desk')
    expect(dead.headers['event_id']).toBe(rejected.json['event_id'])
    expect(dead.value).toMatchObject({
      event_id: rejected.json['event_id'],
      source: 'front-desk',
      source_type: 'dv2000',
      reason: rejected.json['reason'],
      content_type: 'application/json',
      remote_address: '127.0.0.1',
      user_agent: 'DuVoice/8.0.20',
    })
    expect(Buffer.compare(dead.value['body'] as Buffer, RAW_POST_EXAMPLE)).toBe(0)
    expect((dead.value['body'] as Buffer).length).toBe(373)
    const metrics = await (await fetch(`${bridge.url}/metrics`)).text()
    expect(metrics).toMatch(/^bridge_deadletter_records_total\{source="front-desk"\} 1$/m)
  })

  it('answers 413 for a body over the limit and 400 (dead letter) for a body of the wrong shape', async () => {
    const big = Buffer.alloc(bridge.config.http.bodyLimitBytes + 1, 0x20)
    const tooLarge = await post(`${bridge.url}/v1/dv2000/front-desk?token=${DV2000_SECRET}`, big)
    expect(tooLarge.status).toBe(413)
    const wrongShape = await post(`${bridge.url}/v1/dv2000/front-desk?token=${DV2000_SECRET}`, '{"category":"three","event":1}')
    expect(wrongShape.status).toBe(400)
    expect(String(wrongShape.json['reason'])).toMatch(/category/)
    // The largest refused body still fits its dead letter: past Kafka's 1 MB default message size.
    const nearLimit = Buffer.alloc(bridge.config.http.bodyLimitBytes, 0x41)
    const refused = await post(`${bridge.url}/v1/dv2000/front-desk?token=${DV2000_SECRET}`, nearLimit)
    expect(refused.status).toBe(400)
    const dead = await consume(`${bridge.prefix}bridge.deadletter`, (r) => r.some((x) => x.headers['event_id'] === refused.json['event_id']))
    const stored = dead.find((x) => x.headers['event_id'] === refused.json['event_id'])!
    expect(Buffer.compare(stored.value['body'] as Buffer, nearLimit)).toBe(0)
  })

  it('counts every acknowledged record by topic, and every produce call, for concurrent requests', async () => {
    // How many calls concurrent requests share depends on timing; the batcher's unit tests pin the sharing itself.
    const value = async (name: string): Promise<number> => {
      const text = await (await fetch(`${bridge.url}/metrics`)).text()
      const line = text.split('\n').find((l) => l.startsWith(`${name} `))
      return line === undefined ? 0 : Number(line.split(' ').pop())
    }
    const topic = `bridge_records_produced_total{topic="${bridge.prefix}dv2000.hospitality"}`
    const [recordsBefore, callsBefore] = [await value(topic), await value('bridge_produce_calls_total{result="ok"}')]
    const n = 200
    const answers = await Promise.all(
      Array.from({ length: n }, (_, i) => post(`${bridge.url}/v1/dv2000/front-desk?token=${DV2000_SECRET}`, packet(3, 12, { room: `r-${i % 10}` }))),
    )
    expect(answers.every((a) => a.status === 200)).toBe(true)
    expect((await value(topic)) - recordsBefore).toBe(n)
    const calls = (await value('bridge_produce_calls_total{result="ok"}')) - callsBefore
    expect(calls).toBeGreaterThan(0)
    expect(calls).toBeLessThanOrEqual(n)
  })
})
