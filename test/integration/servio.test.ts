// Servio end to end: the document's batches over real HTTP, per-entity records on the real broker, decoded through the real registry.
import { Kafka, logLevel } from 'kafkajs'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { largeGuestBatch, SERVIO_EXAMPLES, servioFixture } from '../fixtures/servio/index.js'
import { SERVIO_SECRET, startBridge, testConfig, type RunningBridge } from './support/bridge.js'
import { consume, post, registryClient, type ConsumedRecord } from './support/kafka.js'

const TOPIC = { client: 'servio.clients', company: 'servio.companies', guest: 'servio.guests', room: 'servio.rooms' } as const

const SOURCES = [
  { id: 'kyiv-central', type: 'servio', secrets: [SERVIO_SECRET], hotelId: '12' },
  { id: 'servio-all', type: 'servio', secrets: [SERVIO_SECRET] },
  { id: 'guest-updates', type: 'servio', secrets: [SERVIO_SECRET], entities: ['guest'], actions: ['update'] },
]

/** Records stored per topic under `prefix` (high minus low watermark): what was produced, whether or not anyone read it. */
async function storedCounts(prefix: string): Promise<Record<string, number>> {
  const admin = new Kafka({ clientId: 'it-offsets', brokers: [inject('kafkaBrokers')], logLevel: logLevel.NOTHING }).admin()
  await admin.connect()
  try {
    const counts: Record<string, number> = {}
    for (const topic of (await admin.listTopics()).filter((t) => t.startsWith(prefix)).sort()) {
      const offsets = await admin.fetchTopicOffsets(topic)
      counts[topic.slice(prefix.length)] = offsets.reduce((n, p) => n + Number(p.high) - Number(p.low), 0)
    }
    return counts
  } finally {
    await admin.disconnect()
  }
}

async function produceCalls(bridge: RunningBridge): Promise<number> {
  const text = await (await fetch(`${bridge.url}/metrics`)).text()
  const line = text.split('\n').find((l) => l.startsWith('bridge_produce_calls_total{result="ok"}'))
  return line === undefined ? 0 : Number(line.split(' ').pop())
}

function servioUrl(bridge: RunningBridge, source: string, query = `?token=${SERVIO_SECRET}`): string {
  return `${bridge.url}/v1/servio/${source}${query}`
}

describe('Servio document examples to Kafka', () => {
  let bridge: RunningBridge
  beforeAll(async () => {
    bridge = await startBridge(testConfig({ sources: SOURCES }))
  })
  afterAll(async () => {
    await bridge?.close()
  })

  it('produces every complete example as its per-entity record and dead-letters the two truncated ones byte for byte', async () => {
    const before = Date.now()
    const answers = []
    for (const example of SERVIO_EXAMPLES) {
      const body = servioFixture(example.file)
      answers.push({ example, body, answer: await post(servioUrl(bridge, 'kyiv-central'), body) })
    }

    for (const { example, answer } of answers) {
      if (example.changes === undefined) {
        expect(answer.status, example.where).toBe(400)
        expect(answer.json).toMatchObject({ status: 'rejected', error: 'BAD_INPUT' })
        expect(String(answer.json['reason'])).toMatch(/^the body is not valid JSON: /)
      } else {
        expect(answer.status, example.where).toBe(200)
        expect(answer.json).toMatchObject({ status: 'produced', records: example.changes.length })
        expect(answer.json['batch_id']).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
        expect(answer.json['event_id']).toBe(answer.json['batch_id'])
      }
    }

    const records = await consume(bridge.prefix, (r) => r.length >= 9)
    const schemaIds = new Map<string, number>()
    for (const { example, answer } of answers.filter((a) => a.example.changes !== undefined)) {
      const batchId = answer.json['batch_id']
      const mine = records.filter((r) => r.value['batch_id'] === batchId)
      expect(mine, example.where).toHaveLength(1)
      const [record] = mine as [ConsumedRecord]
      const [change] = example.changes!
      expect(record.topic).toBe(`${bridge.prefix}${TOPIC[change!.entity]}`)
      expect(record.key).toBe(String(change!.id))
      expect(record.headers['event_id']).toMatch(/^[0-9a-f-]{36}$/)
      expect(record.headers['event_id']).not.toBe(batchId)
      expect(record.headers['source']).toBe('kyiv-central')
      expect(record.headers['received_at']).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/)
      const receivedAt = Date.parse(record.headers['received_at']!)
      expect(receivedAt).toBeGreaterThanOrEqual(before - 1)
      expect(receivedAt).toBeLessThanOrEqual(Date.now())
      // Every field of the contract, and no other.
      expect({ ...record.value, received_at: new Date(record.value['received_at'] as Date).getTime() }).toEqual({
        event_id: record.headers['event_id'],
        batch_id: batchId,
        source: 'kyiv-central',
        hotel_id: '12',
        received_at: receivedAt,
        entity: change!.entity,
        action: change!.action,
        id: change!.id,
        // Schema v2: the request's User-Agent (undici's fetch sends "node").
        user_agent: 'node',
      })
      // Wire format: magic 0 + the id the registry holds for <topic>-value.
      const subject = `${record.topic}-value`
      if (!schemaIds.has(subject)) schemaIds.set(subject, await registryClient().getLatestSchemaId(subject))
      expect(record.rawValue[0]).toBe(0)
      expect(record.rawValue.readUInt32BE(1)).toBe(schemaIds.get(subject))
    }

    const dead = records.filter((r) => r.topic === `${bridge.prefix}bridge.deadletter`)
    expect(dead).toHaveLength(2)
    for (const { example, body, answer } of answers.filter((a) => a.example.changes === undefined)) {
      const letter = dead.find((r) => r.value['event_id'] === answer.json['event_id'])
      expect(letter, example.where).toBeDefined()
      expect(letter!.key).toBe('kyiv-central')
      expect(letter!.headers['event_id']).toBe(answer.json['event_id'])
      expect(letter!.value).toMatchObject({
        source: 'kyiv-central',
        source_type: 'servio',
        reason: answer.json['reason'],
        content_type: 'application/json',
        remote_address: '127.0.0.1',
      })
      expect(Buffer.compare(letter!.value['body'] as Buffer, body), example.where).toBe(0)
    }

    // Nothing else was produced from them: exactly 7 records and 2 dead letters are stored under this prefix.
    expect(await storedCounts(bridge.prefix)).toEqual({
      'bridge.deadletter': 2,
      'servio.clients': 2,
      'servio.companies': 1,
      'servio.guests': 3,
      'servio.other': 0,
      'servio.rooms': 1,
    })
  })

  it('writes hotel_id null for a source for all hotels, answers an all-null batch with 0 records, and produces nothing for a wrong secret', async () => {
    const counts = await storedCounts(bridge.prefix)
    const all = await post(servioUrl(bridge, 'servio-all', ''), '{"Add":null,"Update":{"Rooms":[160],"Clients":[1405]},"Delete":null}', {
      authorization: `Bearer ${SERVIO_SECRET}`,
    })
    expect(all.status).toBe(200)
    expect(all.json).toMatchObject({ status: 'produced', records: 2 })

    const empty = await post(servioUrl(bridge, 'kyiv-central'), '{"Add":null,"Update":null,"Delete":null}')
    expect(empty.status).toBe(200)
    expect(empty.json).toMatchObject({ status: 'produced', records: 0 })

    expect((await post(servioUrl(bridge, 'kyiv-central', '?token=wrong-servio-secret'), servioFixture('guest-1-add.json'))).status).toBe(401)
    expect((await post(servioUrl(bridge, 'kyiv-central', ''), servioFixture('guest-1-add.json'))).status).toBe(401)
    expect((await post(servioUrl(bridge, 'no-such-hotel'), servioFixture('guest-1-add.json'))).status).toBe(404)

    const records = await consume(bridge.prefix, (r) => r.filter((x) => x.value['batch_id'] === all.json['batch_id']).length >= 2)
    const mine = records.filter((x) => x.value['batch_id'] === all.json['batch_id'])
    expect(mine.map((r) => [r.topic.slice(bridge.prefix.length), r.key, r.value['action'], r.value['entity'], r.value['hotel_id'], r.value['source']]).sort()).toEqual([
      ['servio.clients', '1405', 'update', 'client', null, 'servio-all'],
      ['servio.rooms', '160', 'update', 'room', null, 'servio-all'],
    ])
    expect(await storedCounts(bridge.prefix)).toEqual({
      ...counts,
      'servio.clients': counts['servio.clients']! + 1,
      'servio.rooms': counts['servio.rooms']! + 1,
    })
  })
})

describe('Servio filters and large batches', () => {
  let bridge: RunningBridge
  beforeAll(async () => {
    bridge = await startBridge(testConfig({ sources: SOURCES }))
  })
  afterAll(async () => {
    await bridge?.close()
  })

  it('produces only the entities and actions a source takes, and answers filtered when none remain', async () => {
    const filtered = await post(servioUrl(bridge, 'guest-updates'), servioFixture('guest-1-add.json'))
    expect(filtered.status).toBe(200)
    expect(filtered.json).toMatchObject({ status: 'filtered' })
    expect(String(filtered.json['reason'])).toMatch(/entities guest and actions update/)

    const mixed = '{"Add":{"Guests":[1]},"Update":{"Rooms":[160],"Guests":[23061,23062],"Clients":[12766]},"Delete":{"Guests":[23061]}}'
    const kept = await post(servioUrl(bridge, 'guest-updates'), mixed)
    expect(kept.status).toBe(200)
    expect(kept.json).toMatchObject({ status: 'produced', records: 2 })

    const records = await consume(`${bridge.prefix}servio.`, (r) => r.length >= 2)
    expect(records.map((r) => [r.topic.slice(bridge.prefix.length), r.key, r.value['action'], r.value['entity'], r.value['batch_id']]).sort()).toEqual([
      ['servio.guests', '23061', 'update', 'guest', kept.json['batch_id']],
      ['servio.guests', '23062', 'update', 'guest', kept.json['batch_id']],
    ])
    // Nothing reached the other topics, nor the dead letter.
    expect(await storedCounts(bridge.prefix)).toEqual({
      'bridge.deadletter': 0,
      'servio.clients': 0,
      'servio.companies': 0,
      'servio.guests': 2,
      'servio.other': 0,
      'servio.rooms': 0,
    })
  })

  it('produces a batch naming an entity the document does not list (Reservations): it to servio.other, its Rooms as always', async () => {
    const newer = await post(servioUrl(bridge, 'kyiv-central'), '{"Add":{"Reservations":[5],"Rooms":[160]},"Merge":{" Reservations ":["6"]},"Delete":null}', {
      'user-agent': 'Servio/2027.1',
    })
    expect(newer.status).toBe(200)
    expect(newer.json).toMatchObject({ status: 'produced', records: 3 })
    const records = await consume(bridge.prefix, (r) => r.filter((x) => x.value['batch_id'] === newer.json['batch_id']).length >= 3)
    const mine = records.filter((x) => x.value['batch_id'] === newer.json['batch_id']).sort((a, b) => Number(a.key) - Number(b.key))
    expect(mine.map((r) => [r.topic.slice(bridge.prefix.length), r.key, r.value['action'], r.value['entity'], r.value['id'], r.value['hotel_id'], r.value['user_agent']])).toEqual([
      ['servio.other', '5', 'add', 'reservations', 5, '12', 'Servio/2027.1'],
      ['servio.other', '6', 'merge', 'reservations', 6, '12', 'Servio/2027.1'],
      ['servio.rooms', '160', 'add', 'room', 160, '12', 'Servio/2027.1'],
    ])
    // Its ids are still ids: one that is not refuses the batch whole, into the dead letter.
    const refused = await post(servioUrl(bridge, 'kyiv-central'), '{"Add":{"Rooms":[161],"Reservations":["R-17"]}}')
    expect(refused.status).toBe(400)
    expect(refused.json).toMatchObject({ status: 'rejected', reason: 'Add.Reservations[0] must be an integer id, got "R-17"' })
  })

  it('takes a 10,000-id batch in one request and produces it in a few large produce calls', async () => {
    const body = largeGuestBatch(10_000, 10_000_001)
    expect(body.length).toBeLessThan(bridge.config.http.bodyLimitBytes)
    const callsBefore = await produceCalls(bridge)
    const answer = await post(servioUrl(bridge, 'kyiv-central'), body)
    expect(answer.status).toBe(200)
    expect(answer.json).toMatchObject({ status: 'produced', records: 10_000 })
    const calls = (await produceCalls(bridge)) - callsBefore
    expect(calls).toBeGreaterThan(0)
    // Calls of at most 256 KiB (so no one call's encoding holds the event loop long): 10,000 records of some 500 bytes
    // each with their headers (CloudEvents' included) make about two dozen calls, not 10,000.
    expect(calls).toBeLessThanOrEqual(40)

    const batchId = answer.json['batch_id']
    const records = await consume(`${bridge.prefix}servio.guests`, (r) => r.filter((x) => x.value['batch_id'] === batchId).length >= 10_000, 90_000)
    const mine = records.filter((x) => x.value['batch_id'] === batchId)
    expect(mine.length).toBeGreaterThanOrEqual(10_000)
    const expected = new Set(Array.from({ length: 10_000 }, (_, i) => 10_000_001 + i))
    expect(new Set(mine.map((r) => r.value['id'] as number))).toEqual(expected)
    expect(new Set(mine.map((r) => Number(r.key)))).toEqual(expected)
    expect(mine.every((r) => r.value['action'] === 'update' && r.value['entity'] === 'guest' && r.value['hotel_id'] === '12')).toBe(true)
    expect(new Set(mine.map((r) => r.headers['event_id'])).size).toBe(mine.length)
  }, 120_000)
})

describe('Servio batches over http.maxRecordsPerRequest', () => {
  let bridge: RunningBridge
  beforeAll(async () => {
    bridge = await startBridge(testConfig({ sources: SOURCES, http: { host: '127.0.0.1', port: 0, maxRecordsPerRequest: 100 } }))
  })
  afterAll(async () => {
    await bridge?.close()
  })

  it('answers 413 for one change over the cap and keeps the raw body, byte for byte, as a dead letter; a batch at the cap is produced', async () => {
    const over = largeGuestBatch(101, 500)
    const refused = await post(servioUrl(bridge, 'kyiv-central'), over)
    expect(refused.status).toBe(413)
    expect(refused.json).toMatchObject({ status: 'rejected', error: 'TOO_MANY_RECORDS', dead_letter: 'delivered' })
    const atCap = await post(servioUrl(bridge, 'kyiv-central'), largeGuestBatch(100, 1_000))
    expect(atCap.status).toBe(200)
    const records = await consume(`${bridge.prefix}bridge.deadletter`, (r) => r.some((x) => x.value['event_id'] === refused.json['event_id']), 60_000)
    const letter = records.find((x) => x.value['event_id'] === refused.json['event_id'])!
    expect(Buffer.compare(letter.value['body'] as Buffer, over)).toBe(0)
    expect(letter.value['reason']).toBe('the batch holds 101 changes, more than http.maxRecordsPerRequest (100) allows in one request')
    expect(await storedCounts(bridge.prefix)).toMatchObject({ 'servio.guests': 100, 'bridge.deadletter': 1 })
  })
})
