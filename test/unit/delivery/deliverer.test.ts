// The delivery policy, from state: direct while Kafka answers and nothing of a request's topics waits; else the spool; never latched.
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterEach, describe, expect, it, vi } from 'vitest'
import type { SchemaIds } from '../../../src/avro/registry.js'
import { schemaHash } from '../../../src/avro/schemas.js'
import { createBatcher, type Batcher } from '../../../src/delivery/batcher.js'
import { createDeliverer, type DelivererOptions } from '../../../src/delivery/deliverer.js'
import type { SpoolEntry } from '../../../src/delivery/spool/frame.js'
import { createSchemaTexts } from '../../../src/delivery/spool/schema-texts.js'
import { createSpool, type Spool } from '../../../src/delivery/spool/spool.js'
import type { OutboundRecord, PreparedRecord, SchemaRef } from '../../../src/delivery/types.js'
import { BridgeError, ErrorCodes } from '../../../src/errors.js'
import { mountSmallDisk, type SmallDisk } from '../../support/small-disk.js'
import { capturingLogger, drainAll, silent, tempDirs } from './spool-fixtures.js'

const dirs = tempDirs()
const spools: Spool[] = []
afterEach(async () => {
  await Promise.all(spools.splice(0).map((s) => s.close().catch(() => undefined)))
  await dirs.cleanup()
})

const schemaRef = (text: string): SchemaRef => ({ text, hash: schemaHash(text) })
const EVENT = schemaRef('{"type":"record","name":"Event","fields":[{"name":"id","type":"string"}]}')
const CHANGE = schemaRef('{"type":"record","name":"Change","fields":[{"name":"n","type":"long"}]}')

function prepared(n: number, schema: SchemaRef = EVENT, topic = 'dv2000.hospitality'): PreparedRecord {
  return { topic, key: `room-${n % 3}`, headers: { event_id: `e-${n}` }, schema, body: Buffer.from([n, 0xfe, n]) }
}

const wire = (id: number, body: Buffer): Buffer => Buffer.concat([Buffer.from([0, (id >>> 24) & 255, (id >>> 16) & 255, (id >>> 8) & 255, id & 255]), body])
const eventIds = (records: readonly { headers: Record<string, string> }[]): string[] => records.map((r) => r.headers['event_id']!)

/** Registry ids by subject and schema text; `idFor` answers as the test says (default: it knows every id). */
function fakeSchemaIds(known: Record<string, number>) {
  const cache = new Map<string, number>()
  const idFor = vi.fn(async (subject: string, text: string): Promise<number> => {
    const id = known[`${subject}|${text}`]
    if (id === undefined) throw new BridgeError(ErrorCodes.REGISTRY_REJECTED, `unknown ${subject}`)
    cache.set(`${subject}|${text}`, id)
    return id
  })
  const ids: Pick<SchemaIds, 'cachedId' | 'idFor'> & { cache: Map<string, number> } = {
    cache,
    cachedId: (subject, text) => cache.get(`${subject}|${text}`),
    idFor,
  }
  return { ids, idFor }
}

interface Call {
  records: OutboundRecord[]
  resolve: () => void
  reject: (error: unknown) => void
}

/** A batcher whose deliver() calls the test settles by hand. */
function manualBatcher() {
  const calls: Call[] = []
  const failQueued = vi.fn()
  const batcher: Batcher = {
    deliver: (records) => new Promise<void>((resolve, reject) => calls.push({ records: [...records], resolve, reject })),
    failQueued,
    flush: async () => undefined,
    queuedRecords: 0,
  }
  return { batcher, calls, failQueued }
}

async function setup(
  options: { batcher: Batcher; schemaIds: Pick<SchemaIds, 'cachedId' | 'idFor'>; ackTimeoutMs?: number; maxBytes?: number; known?: SchemaRef[]; dir?: string } & Partial<DelivererOptions>,
) {
  const dir = options.dir ?? (await dirs.make('deliverer-'))
  const spool = createSpool({ dir, maxBytes: options.maxBytes ?? 1 << 20, logger: silent() })
  spools.push(spool)
  await spool.open()
  const schemaTexts = createSchemaTexts(dir, options.known ?? [EVENT, CHANGE])
  let spooledCalls = 0
  // Kafka's last answer as the app's watch keeps it: the deliverer reports what it saw go unanswered.
  const kafka = { up: true }
  const held = new Set<string>()
  const deliverer = createDeliverer({
    spool,
    schemaTexts,
    ackTimeoutMs: options.ackTimeoutMs ?? 5_000,
    logger: options.logger ?? silent(),
    onSpooled: () => spooledCalls++,
    kafkaAnswers: () => kafka.up,
    onKafkaUnanswered: () => (kafka.up = false),
    topicWaits: (topic) => held.has(topic),
    ...options,
  })
  return { dir, spool, deliverer, schemaTexts, spooled: () => spooledCalls, kafka, held }
}

/** The spooled entries' event ids, in spool order (reads without acking). */
async function spooledIds(spool: Spool): Promise<string[]> {
  const batch = await spool.read(1_000)
  return batch === undefined ? [] : batch.entries.flatMap((e) => eventIds(e.records))
}

const tick = async (): Promise<void> => {
  for (let i = 0; i < 20; i++) await Promise.resolve()
}

function idsForAll(): ReturnType<typeof fakeSchemaIds> {
  const f = fakeSchemaIds({
    [`dv2000.hospitality-value|${EVENT.text}`]: 7,
    [`servio.bookings-value|${CHANGE.text}`]: 0x01020304,
  })
  f.ids.cache.set(`dv2000.hospitality-value|${EVENT.text}`, 7)
  f.ids.cache.set(`servio.bookings-value|${CHANGE.text}`, 0x01020304)
  return f
}

describe('deliverer: direct', () => {
  it('with every id cached hands the batcher wire records (magic 0, 4-byte id, body) and answers delivered', async () => {
    const { batcher, calls } = manualBatcher()
    const { ids, idFor } = idsForAll()
    const { deliverer, spool, spooled } = await setup({ batcher, schemaIds: ids })
    const records = [prepared(1), prepared(2, CHANGE, 'servio.bookings')]
    const result = deliverer.deliver(records, new Date(1_000))
    // No await before the batcher: the common path adds no latency.
    expect(calls).toHaveLength(1)
    expect(calls[0]!.records).toEqual([
      { topic: 'dv2000.hospitality', key: 'room-1', headers: { event_id: 'e-1' }, value: wire(7, records[0]!.body) },
      { topic: 'servio.bookings', key: 'room-2', headers: { event_id: 'e-2' }, value: wire(0x01020304, records[1]!.body) },
    ])
    expect(calls[0]!.records[1]!.value.subarray(0, 5)).toEqual(Buffer.from([0, 1, 2, 3, 4]))
    calls[0]!.resolve()
    await expect(result).resolves.toBe('delivered')
    expect(idFor).not.toHaveBeenCalled()
    expect(spool.entries).toBe(0)
    expect(spooled()).toBe(0)
  })

  it('asks the registry for ids it does not have, then delivers direct', async () => {
    const { batcher, calls } = manualBatcher()
    const { ids, idFor } = fakeSchemaIds({ [`dv2000.hospitality-value|${EVENT.text}`]: 42 })
    const { deliverer } = await setup({ batcher, schemaIds: ids })
    const result = deliverer.deliver([prepared(1)], new Date())
    await tick()
    expect(idFor).toHaveBeenCalledWith('dv2000.hospitality-value', EVENT.text)
    expect(calls[0]!.records[0]!.value).toEqual(wire(42, prepared(1).body))
    calls[0]!.resolve()
    await expect(result).resolves.toBe('delivered')
  })
})

describe('deliverer: into the spool', () => {
  it('spools on a retriable Kafka error (202), keeps the schema beside the spool, and spools the NEXT request too, although Kafka would answer', async () => {
    const { batcher, calls, failQueued } = manualBatcher()
    const { ids } = idsForAll()
    const { logger, lines } = capturingLogger()
    const { deliverer, spool, dir, spooled, kafka } = await setup({ batcher, schemaIds: ids, logger })
    const first = deliverer.deliver([prepared(1), prepared(2, CHANGE, 'servio.bookings')], new Date(1_234))
    const outage = new BridgeError(ErrorCodes.KAFKA_UNAVAILABLE, 'broker away', { retriable: true })
    calls[0]!.reject(outage)
    await expect(first).resolves.toBe('spooled')
    expect(kafka.up).toBe(false)
    expect(failQueued).toHaveBeenCalledWith(outage)
    expect(spooled()).toBe(1)

    const batch = (await spool.read(10))!
    expect(batch.entries).toEqual([
      {
        receivedAt: 1_234,
        records: [
          { topic: 'dv2000.hospitality', key: 'room-1', headers: { event_id: 'e-1' }, schema: EVENT.hash, body: prepared(1).body },
          { topic: 'servio.bookings', key: 'room-2', headers: { event_id: 'e-2' }, schema: CHANGE.hash, body: prepared(2).body },
        ],
      },
    ])
    expect(await readFile(join(dir, 'schemas', `${EVENT.hash}.avsc`), 'utf8')).toBe(EVENT.text)
    expect(await readFile(join(dir, 'schemas', `${CHANGE.hash}.avsc`), 'utf8')).toBe(CHANGE.text)

    // Kafka is back, but records of the topic wait in the spool: a new request must queue behind them.
    kafka.up = true
    const second = deliverer.deliver([prepared(3)], new Date(2_000))
    await expect(second).resolves.toBe('spooled')
    expect(calls).toHaveLength(1)
    expect(await spooledIds(spool)).toEqual(['e-1', 'e-2', 'e-3'])
    expect(spooled()).toBe(2)
    expect(lines.filter((l) => l['msg'] === 'Kafka or the registry did not take the records: accepting into the local spool')).toHaveLength(1)
  })

  it('spools a request Kafka does not acknowledge within ackTimeoutMs, and fails what queued behind it', async () => {
    const { batcher, calls, failQueued } = manualBatcher()
    const { ids } = idsForAll()
    const { deliverer, spool, kafka } = await setup({ batcher, schemaIds: ids, ackTimeoutMs: 30 })
    const started = Date.now()
    const result = await deliverer.deliver([prepared(1)], new Date())
    expect(result).toBe('spooled')
    expect(Date.now() - started).toBeGreaterThanOrEqual(25)
    expect(calls).toHaveLength(1) // the send goes on; if it lands, the replay is a duplicate
    expect(failQueued).toHaveBeenCalledTimes(1)
    expect((failQueued.mock.calls[0]![0] as BridgeError).code).toBe(ErrorCodes.KAFKA_UNAVAILABLE)
    expect(kafka.up).toBe(false)
    expect(await spooledIds(spool)).toEqual(['e-1'])
    // A late acknowledgement does not let a newer record of the topic overtake the spooled one.
    calls[0]!.resolve()
    kafka.up = true
    await expect(deliverer.deliver([prepared(4)], new Date())).resolves.toBe('spooled')
    expect(await spooledIds(spool)).toEqual(['e-1', 'e-4'])
  })

  it('spools without touching the batcher when the registry is down and an id is not cached', async () => {
    const { batcher, calls } = manualBatcher()
    const { ids, idFor } = fakeSchemaIds({})
    idFor.mockRejectedValue(new BridgeError(ErrorCodes.REGISTRY_UNAVAILABLE, 'registry unreachable', { retriable: true }))
    const { deliverer, spool, spooled } = await setup({ batcher, schemaIds: ids })
    await expect(deliverer.deliver([prepared(1)], new Date())).resolves.toBe('spooled')
    expect(calls).toHaveLength(0)
    expect(spooled()).toBe(1)
    expect(await spooledIds(spool)).toEqual(['e-1'])
  })

  it('spools what Kafka or the registry refuses (an operator can fix that; a 503 would lose a DV2000 event), and rethrows anything else', async () => {
    const { batcher, calls, failQueued } = manualBatcher()
    const { ids } = idsForAll()
    const { deliverer, spool } = await setup({ batcher, schemaIds: ids })
    const result = deliverer.deliver([prepared(1)], new Date())
    calls[0]!.reject(new BridgeError(ErrorCodes.KAFKA_REJECTED, 'record too large'))
    await expect(result).resolves.toBe('spooled')
    // A refusal is not an outage: the batcher failed only the queued requests of the same topics.
    expect(failQueued).not.toHaveBeenCalled()
    expect(await spooledIds(spool)).toEqual(['e-1'])

    const registry = fakeSchemaIds({})
    const other = await setup({ batcher, schemaIds: registry.ids })
    await expect(other.deliverer.deliver([prepared(2)], new Date())).resolves.toBe('spooled')
    expect(await spooledIds(other.spool)).toEqual(['e-2'])

    const third = await setup({ batcher, schemaIds: idsForAll().ids })
    const pending = third.deliverer.deliver([prepared(3)], new Date())
    const bug = new BridgeError(ErrorCodes.ENCODING_FAILED, 'a source emitted a value its schema does not fit')
    calls.at(-1)!.reject(bug)
    await expect(pending).rejects.toBe(bug)
    expect(third.kafka.up).toBe(true)
    expect(third.spool.entries).toBe(0)
  })

  it('answers SPOOL_FULL (503) when neither Kafka nor the spool can take the event', async () => {
    const { batcher, calls } = manualBatcher()
    const { ids } = idsForAll()
    const { deliverer, spool } = await setup({ batcher, schemaIds: ids, maxBytes: 50 })
    const result = deliverer.deliver([prepared(1)], new Date())
    calls[0]!.reject(new BridgeError(ErrorCodes.KAFKA_UNAVAILABLE, 'away', { retriable: true }))
    const error = await result.catch((e: unknown) => e)
    expect(error).toBeInstanceOf(BridgeError)
    expect((error as BridgeError).code).toBe(ErrorCodes.SPOOL_FULL)
    expect(spool.entries).toBe(0)
  })

  it('goes direct again for a topic once its spooled records are delivered and Kafka answers; other topics go direct meanwhile', async () => {
    const { batcher, calls } = manualBatcher()
    const { ids } = idsForAll()
    const { deliverer, spool, kafka } = await setup({ batcher, schemaIds: ids })
    const first = deliverer.deliver([prepared(1)], new Date())
    calls[0]!.reject(new BridgeError(ErrorCodes.KAFKA_UNAVAILABLE, 'away', { retriable: true }))
    await expect(first).resolves.toBe('spooled')
    // While Kafka does not answer, every request goes to the spool at once, without waiting for it.
    await expect(deliverer.deliver([prepared(2)], new Date())).resolves.toBe('spooled')
    expect(calls).toHaveLength(1)

    kafka.up = true
    // Records of the topic still to replay: stay behind them.
    await expect(deliverer.deliver([prepared(3)], new Date())).resolves.toBe('spooled')
    expect(calls).toHaveLength(1)
    // A topic with nothing spooled goes direct.
    const other = deliverer.deliver([prepared(4, CHANGE, 'servio.bookings')], new Date())
    expect(calls).toHaveLength(2)
    calls[1]!.resolve()
    await expect(other).resolves.toBe('delivered')

    expect(await drainAll(spool)).toEqual(['e-1', 'e-2', 'e-3'])
    const direct = deliverer.deliver([prepared(5)], new Date())
    expect(calls).toHaveLength(3)
    calls[2]!.resolve()
    await expect(direct).resolves.toBe('delivered')
  })

  it('spools a held topic (or one whose lane holds records) without trying Kafka, while other topics go direct', async () => {
    const { batcher, calls } = manualBatcher()
    const { ids } = idsForAll()
    const { deliverer, spool, held } = await setup({ batcher, schemaIds: ids })
    held.add('servio.bookings')
    await expect(deliverer.deliver([prepared(1, CHANGE, 'servio.bookings')], new Date())).resolves.toBe('spooled')
    expect(calls).toHaveLength(0)
    const direct = deliverer.deliver([prepared(2)], new Date())
    calls[0]!.resolve()
    await expect(direct).resolves.toBe('delivered')
    expect(await spooledIds(spool)).toEqual(['e-1'])
  })

  it('spools a request whose ids came from the registry after Kafka failed meanwhile', async () => {
    const { batcher, calls } = manualBatcher()
    const { ids, idFor } = idsForAll()
    let answer: (id: number) => void = () => undefined
    idFor.mockImplementationOnce(() => new Promise<number>((resolve) => (answer = resolve)))
    const { deliverer, spool } = await setup({ batcher, schemaIds: ids })
    const slow = deliverer.deliver([prepared(1, EVENT, 'dv2000.other')], new Date()) // id not cached: asks the registry
    const fast = deliverer.deliver([prepared(2)], new Date())
    calls[0]!.reject(new BridgeError(ErrorCodes.KAFKA_UNAVAILABLE, 'away', { retriable: true }))
    await expect(fast).resolves.toBe('spooled')
    answer(99)
    await expect(slow).resolves.toBe('spooled')
    expect(calls).toHaveLength(1)
    expect(await spooledIds(spool)).toEqual(['e-2', 'e-1'])
  })
})

describe('deliverer: order with the real batcher', () => {
  it('spools the failing request and every request queued behind it, in their submission order', async () => {
    const sends: { records: OutboundRecord[]; reject: (e: unknown) => void; resolve: () => void }[] = []
    const batcher = createBatcher({
      send: (records) => new Promise<void>((resolve, reject) => sends.push({ records, resolve, reject })),
      lingerMs: 0,
      maxBatchRecords: 100,
    })
    const { ids } = idsForAll()
    const { deliverer, spool } = await setup({ batcher, schemaIds: ids })
    const results = Array.from({ length: 6 }, (_, n) => deliverer.deliver([prepared(n), prepared(n + 100)], new Date(n)))
    expect(sends).toHaveLength(1) // request 0 in flight, 1..5 queued behind it
    expect(eventIds(sends[0]!.records)).toEqual(['e-0', 'e-100'])
    sends[0]!.reject(new BridgeError(ErrorCodes.KAFKA_UNAVAILABLE, 'away', { retriable: true }))
    expect(await Promise.all(results)).toEqual(Array(6).fill('spooled'))
    expect(sends).toHaveLength(1)
    const batch = (await spool.read(1_000))!
    expect(batch.entries.map((e) => e.receivedAt)).toEqual([0, 1, 2, 3, 4, 5])
    expect(batch.entries.flatMap((e) => eventIds(e.records))).toEqual(['e-0', 'e-100', 'e-1', 'e-101', 'e-2', 'e-102', 'e-3', 'e-103', 'e-4', 'e-104', 'e-5', 'e-105'])
  })

  it('on an ack timeout spools the slow request, then those queued behind it, in order', async () => {
    const sends: OutboundRecord[][] = []
    const batcher = createBatcher({ send: (records) => (sends.push(records), new Promise<void>(() => undefined)), lingerMs: 0, maxBatchRecords: 100 })
    const { ids } = idsForAll()
    const { deliverer, spool } = await setup({ batcher, schemaIds: ids, ackTimeoutMs: 40 })
    const results = Array.from({ length: 4 }, (_, n) => deliverer.deliver([prepared(n)], new Date(n)))
    expect(await Promise.all(results)).toEqual(Array(4).fill('spooled'))
    expect(sends.map(eventIds)).toEqual([['e-0']])
    expect(await spooledIds(spool)).toEqual(['e-0', 'e-1', 'e-2', 'e-3'])
  })
})

describe('deliverer: sendSpooled', () => {
  it('resolves each schema by hash (from memory, or from the spool folder for a schema no longer loaded) and sends wire records', async () => {
    const { batcher, calls } = manualBatcher()
    const OLD = schemaRef('{"type":"record","name":"Event","fields":[{"name":"id","type":"string"},{"name":"gone","type":"int"}]}')
    const { ids, idFor } = fakeSchemaIds({ [`dv2000.hospitality-value|${OLD.text}`]: 3, [`servio.bookings-value|${CHANGE.text}`]: 4 })
    ids.cache.set(`servio.bookings-value|${CHANGE.text}`, 4)
    const { deliverer, dir } = await setup({ batcher, schemaIds: ids, known: [EVENT, CHANGE] })
    // A previous run (with the old schema loaded) kept its text beside the spool.
    await createSchemaTexts(dir, [OLD]).keep(OLD)

    const entries: SpoolEntry[] = [
      { receivedAt: 1, records: [{ topic: 'dv2000.hospitality', key: 'k1', headers: { event_id: 'e-1' }, schema: OLD.hash, body: Buffer.from('old') }] },
      { receivedAt: 2, records: [{ topic: 'servio.bookings', key: 'k2', headers: { event_id: 'e-2' }, schema: CHANGE.hash, body: Buffer.from('new') }] },
    ]
    const sent = deliverer.sendSpooled(entries)
    await vi.waitFor(() => expect(calls).toHaveLength(1))
    expect(calls[0]!.records).toEqual([
      { topic: 'dv2000.hospitality', key: 'k1', headers: { event_id: 'e-1' }, value: wire(3, Buffer.from('old')) },
      { topic: 'servio.bookings', key: 'k2', headers: { event_id: 'e-2' }, value: wire(4, Buffer.from('new')) },
    ])
    expect(idFor).toHaveBeenCalledWith('dv2000.hospitality-value', OLD.text)
    calls[0]!.resolve()
    await expect(sent).resolves.toBeUndefined()
  })

  it('refuses for good (SPOOL_FAILED, not retriable) a record whose schema text is nowhere', async () => {
    const { batcher, calls } = manualBatcher()
    const { ids } = idsForAll()
    const { deliverer } = await setup({ batcher, schemaIds: ids })
    const entries: SpoolEntry[] = [{ receivedAt: 1, records: [{ topic: 't', key: 'k', headers: {}, schema: 'f'.repeat(64), body: Buffer.alloc(1) }] }]
    const error = await deliverer.sendSpooled(entries).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(BridgeError)
    expect((error as BridgeError).code).toBe(ErrorCodes.SPOOL_FAILED)
    expect((error as BridgeError).retriable).toBe(false)
    expect(calls).toHaveLength(0)
  })

  it('passes a registry outage on as retriable (the drainer backs off) and a Kafka error as it came', async () => {
    const { batcher, calls } = manualBatcher()
    const { ids, idFor } = fakeSchemaIds({})
    idFor.mockRejectedValue(new BridgeError(ErrorCodes.REGISTRY_UNAVAILABLE, 'down', { retriable: true }))
    const { deliverer } = await setup({ batcher, schemaIds: ids })
    const entries: SpoolEntry[] = [{ receivedAt: 1, records: [{ topic: 'dv2000.hospitality', key: 'k', headers: {}, schema: EVENT.hash, body: Buffer.alloc(1) }] }]
    const error = await deliverer.sendSpooled(entries).catch((e: unknown) => e)
    expect((error as BridgeError).retriable).toBe(true)
    expect(calls).toHaveLength(0)

    ids.cache.set(`dv2000.hospitality-value|${EVENT.text}`, 5)
    const kafkaDown = new BridgeError(ErrorCodes.KAFKA_UNAVAILABLE, 'away', { retriable: true })
    const sent = deliverer.sendSpooled(entries)
    await vi.waitFor(() => expect(calls).toHaveLength(1))
    calls[0]!.reject(kafkaDown)
    await expect(sent).rejects.toBe(kafkaDown)
  })

  it('spools a request whose schema id the registry does not give within ackTimeoutMs, instead of waiting for it', async () => {
    const { batcher, calls } = manualBatcher()
    let answer: (id: number) => void = () => undefined
    const slow: Pick<SchemaIds, 'cachedId' | 'idFor'> = { cachedId: () => undefined, idFor: () => new Promise<number>((resolve) => (answer = resolve)) }
    const { deliverer } = await setup({ batcher, schemaIds: slow, ackTimeoutMs: 30 })
    await expect(deliverer.deliver([prepared(1)], new Date())).resolves.toBe('spooled')
    expect(calls).toHaveLength(0)
    answer(42)
  })
})

describe('deliverer: a spool that cannot write (a real full disk) never latches', () => {
  const disks: SmallDisk[] = []
  afterEach(async () => {
    await Promise.all(spools.splice(0).map((s) => s.close().catch(() => undefined)))
    for (const disk of disks.splice(0)) disk.unmount()
  })

  it('tries Kafka when the spool refuses a request that only a Kafka timeout sent there, reports the failure, and recovers', async () => {
    const disk = mountSmallDisk(256 * 1024)
    disks.push(disk)
    const { batcher, calls } = manualBatcher()
    const { ids } = idsForAll()
    const failures: BridgeError[] = []
    const { deliverer, kafka } = await setup({ batcher, schemaIds: ids, dir: disk.dir, ackTimeoutMs: 60_000, onSpoolWriteFailed: (e) => failures.push(e) })
    disk.fill()
    // A Kafka stall was seen: requests go to the spool first, which cannot write.
    kafka.up = false
    const first = deliverer.deliver([prepared(1)], new Date())
    await vi.waitFor(() => expect(calls).toHaveLength(1))
    calls[0]!.resolve()
    await expect(first).resolves.toBe('delivered')
    expect(failures.map((e) => e.code)).toEqual([ErrorCodes.SPOOL_FAILED])
    expect(deliverer.spoolWriteError?.message).toMatch(/could not write/)

    // The next request is tried again on both: the spool first (Kafka's last answer), then Kafka.
    const second = deliverer.deliver([prepared(2)], new Date())
    await vi.waitFor(() => expect(calls).toHaveLength(2))
    calls[1]!.reject(new BridgeError(ErrorCodes.KAFKA_UNAVAILABLE, 'away', { retriable: true }))
    // Neither took it: 503 (SPOOL_FAILED), and nothing is latched.
    await expect(second).rejects.toMatchObject({ code: ErrorCodes.SPOOL_FAILED })

    await disk.free()
    await expect(deliverer.deliver([prepared(3)], new Date())).resolves.toBe('spooled')
    expect(deliverer.spoolWriteError).toBeUndefined()
  })

  it('refuses (503) rather than let a request overtake spooled records of its topic when the spool cannot take it', async () => {
    const disk = mountSmallDisk(256 * 1024)
    disks.push(disk)
    const { batcher, calls } = manualBatcher()
    const { ids } = idsForAll()
    const { deliverer, spool, kafka } = await setup({ batcher, schemaIds: ids, dir: disk.dir })
    kafka.up = false
    await expect(deliverer.deliver([prepared(1)], new Date())).resolves.toBe('spooled')
    disk.fill()
    kafka.up = true
    // Larger than what is left of the segment's last page: the disk must find room for it, and has none.
    const large = { ...prepared(2), body: Buffer.alloc(16 * 1024, 2) }
    await expect(deliverer.deliver([large], new Date())).rejects.toMatchObject({ code: ErrorCodes.SPOOL_FAILED })
    expect(calls).toHaveLength(0)
    // Another topic, with nothing spooled, goes straight to Kafka.
    const other = deliverer.deliver([prepared(3, CHANGE, 'servio.bookings')], new Date())
    calls[0]!.resolve()
    await expect(other).resolves.toBe('delivered')
    expect(await spooledIds(spool)).toEqual(['e-1'])
  })
})
