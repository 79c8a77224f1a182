// SPEC §5 on a bad day, against the real broker and registry: a full disk with a stalled Kafka, a topic an operator
// must fix, a subject the registry refuses, and a SIGTERM with events in the spool. The bridge runs as a child process.
import { execFileSync } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { afterEach, describe, expect, inject, it } from 'vitest'
import { mountSmallDisk, type SmallDisk } from '../support/small-disk.js'
import { childSetup, startChild, waitDelivering, type ChildBridge, type ChildSetup } from './support/child-bridge.js'
import { consume, createTopic } from './support/kafka.js'
import { acknowledged, expectDeliveredInOrder, metric, send, STREAM_SECRET, type Sent } from './support/stream.js'
import { stack } from './support/stack.js'

const children: ChildBridge[] = []
const disks: SmallDisk[] = []
/** The broker is resumed whatever a test did to it. */
let brokerStopped = false

const stackDir = (): string => process.env['STACK_DIR'] ?? join(dirname(inject('stackScript')), '..', '.stack')
const brokerPid = (): number => Number(readFileSync(join(stackDir(), 'run', 'kafka.pid'), 'utf8').trim())
function stallBroker(): void {
  process.kill(brokerPid(), 'SIGSTOP')
  brokerStopped = true
}
function resumeBroker(): void {
  process.kill(brokerPid(), 'SIGCONT')
  brokerStopped = false
}

afterEach(async () => {
  if (brokerStopped) resumeBroker()
  for (const child of children.splice(0)) {
    child.kill('SIGKILL')
    await child.exited
  }
  for (const disk of disks.splice(0)) disk.unmount()
  stack('up')
})

const setup = (spoolDir?: string): Promise<ChildSetup> => childSetup('bad-day', STREAM_SECRET, spoolDir)

async function start(config: Record<string, unknown>, dir: string): Promise<ChildBridge> {
  const child = await startChild(config, dir)
  children.push(child)
  return child
}

/** A DV2000 event of category 0 (general: dv2000.general, keyed by service_id) carrying `seq`. */
async function sendGeneral(url: string, seq: number): Promise<Sent> {
  const body = JSON.stringify({ category: 0, event: 0, date: '2023/09/13', time: '08:07:46', timestamp: '2023-09-13T08:07:46-07:00', service_id: 7, service_name: 'Voicemail', message: { text: `general ${seq}` } })
  const response = await fetch(`${url}/v1/dv2000/front-desk?token=${STREAM_SECRET}`, { method: 'POST', body, headers: { 'content-type': 'application/json' } })
  return { status: response.status, eventId: ((await response.json()) as { event_id?: string }).event_id }
}

const readyz = async (url: string): Promise<{ status: number; body: Record<string, unknown> }> => {
  const response = await fetch(`${url}/readyz`)
  return { status: response.status, body: (await response.json()) as Record<string, unknown> }
}

type Held = { topic: string; reason: string; entries: number }[]

describe('a full disk while Kafka stalls', () => {
  it('refuses only what neither took, never latches: once Kafka answers, events are delivered (200) with the disk still full', { timeout: 180_000 }, async () => {
    const disk = mountSmallDisk(1024 * 1024)
    disks.push(disk)
    const s = await setup(join(disk.dir, 'spool'))
    const bridge = await start(s.config(), s.dir)
    await expect.poll(async () => (await send(bridge.url, 'warm', 0)).status, { timeout: 60_000, interval: 500 }).toBe(200)
    // The warm-up's spooled events are replayed first: they are not what this test is about.
    await expect.poll(async () => ((await readyz(bridge.url)).body['spool'] as { entries: number }).entries, { timeout: 60_000, interval: 250 }).toBe(0)
    stallBroker()

    // Kafka does not answer within ackTimeoutMs and the spool cannot write: 503, logged and counted. The disk is filled
    // again before each try: space the spool frees by itself (a replayed segment deleted, a cursor renamed over the old
    // one) may take an event first, which is kept (202) and must be delivered with the rest.
    const sent: Sent[] = []
    await expect
      .poll(
        async () => {
          disk.fill()
          const answer = await send(bridge.url, 'room-1', 1 + sent.length)
          sent.push(answer)
          return answer.status
        },
        { timeout: 60_000, interval: 0 },
      )
      .toBe(503)
    expect(sent.slice(0, -1).map((a) => a.status)).toEqual(Array(sent.length - 1).fill(202))
    const during = await readyz(bridge.url)
    expect(during.body['spool']).toMatchObject({ writable: false })
    expect(await metric(bridge.url, 'bridge_spool_write_failures_total{reason="io"}')).toBeGreaterThanOrEqual(1)

    resumeBroker()
    // Kafka answers again; the disk is still full. The bridge goes back to Kafka, it does not stay on the broken spool.
    await expect
      .poll(
        async () => {
          const answer = await send(bridge.url, 'room-1', 1 + sent.length)
          sent.push(answer)
          return answer.status
        },
        { timeout: 60_000, interval: 250 },
      )
      .toBe(200)
    for (let i = 0; i < 20; i++) sent.push(await send(bridge.url, `room-${i % 3}`, 100 + i))
    expect(sent.slice(-20).map((a) => a.status)).toEqual(Array(20).fill(200))
    expect((await readyz(bridge.url)).body).toMatchObject({ ready: true, delivering: 'kafka' })
    await expectDeliveredInOrder(s.prefix, sent)
  })
})

describe('failure domains per topic', () => {
  it('a missing topic (topics.create off) holds only that topic, in order, named in the log and /readyz; the rest flows (200); it drains once created', { timeout: 180_000 }, async () => {
    const s = await setup()
    for (const topic of ['dv2000.telephony', 'dv2000.system', 'dv2000.hospitality', 'dv2000.other', 'bridge.deadletter']) await createTopic(`${s.prefix}${topic}`, {})
    const general = `${s.prefix}dv2000.general`
    const bridge = await start(s.config({ topics: { create: false } }), s.dir)
    await expect.poll(async () => ((await readyz(bridge.url)).body['held'] as Held).map((h) => [h.topic, h.reason]), { timeout: 60_000, interval: 250 }).toEqual([[general, 'topic_missing']])
    await waitDelivering(bridge.url, 'kafka')

    const rooms: Sent[] = []
    const generals: Sent[] = []
    for (let seq = 0; seq < 30; seq++) {
      rooms.push(await send(bridge.url, `room-${seq % 3}`, seq))
      if (seq % 3 === 0) generals.push(await sendGeneral(bridge.url, seq))
    }
    // Every other topic is delivered straight away; the held topic's events are kept (202), none refused.
    expect(rooms.map((r) => r.status)).toEqual(Array(30).fill(200))
    expect(generals.map((g) => g.status)).toEqual(Array(10).fill(202))
    const ready = await readyz(bridge.url)
    expect(ready.status).toBe(200)
    expect(ready.body['held']).toEqual([expect.objectContaining({ topic: general, reason: 'topic_missing', entries: 10 })])
    expect(await metric(bridge.url, `bridge_topic_held{topic="${general}",reason="topic_missing"}`)).toBe(1)
    expect(await metric(bridge.url, `bridge_topic_held_entries{topic="${general}"}`)).toBe(10)
    const heldLines = bridge.output().split('\n').filter((l) => l.includes(`"topic ${general} is held`))
    expect(heldLines).toHaveLength(1)
    expect(heldLines[0]).toContain('(topic missing)')
    expect(bridge.output()).not.toContain('Kafka is not reachable')
    // The operator's view from the command line, while the bridge runs: the main spool empty, the lane holding 10.
    const file = join(s.dir, 'status.yaml')
    writeFileSync(file, JSON.stringify(s.config({ topics: { create: false } })))
    const status = JSON.parse(execFileSync(process.execPath, ['--import', 'tsx', 'src/main.ts', 'spool', 'status', '--config', file, '--json'], { encoding: 'utf8' })) as { entries: number; lanes: { topic: string; entries: number }[] }
    expect({ entries: status.entries, lanes: status.lanes.map((l) => [l.topic, l.entries]) }).toEqual({ entries: 0, lanes: [[general, 10]] })

    // The operator creates the topic: the lane drains, in the order the events were accepted.
    await createTopic(general, {})
    await expect.poll(async () => ((await readyz(bridge.url)).body['held'] as Held).length, { timeout: 90_000, interval: 500 }).toBe(0)
    await expect.poll(async () => metric(bridge.url, `bridge_topic_held_entries{topic="${general}"}`), { timeout: 60_000, interval: 500 }).toBeUndefined()
    const ids = acknowledged(generals)
    const records = await consume(general, (r) => ids.every((id) => r.some((x) => x.headers['event_id'] === id)), 60_000)
    expect(records.map((r) => r.headers['event_id'])).toEqual(ids)
    expect((await sendGeneral(bridge.url, 99)).status).toBe(200)
  })

  it('a topic Kafka refuses to create (a replication factor above the cluster\'s size) holds only that topic; the rest flows (200)', { timeout: 120_000 }, async () => {
    const s = await setup()
    for (const topic of ['dv2000.telephony', 'dv2000.system', 'dv2000.hospitality', 'dv2000.other', 'bridge.deadletter']) await createTopic(`${s.prefix}${topic}`, {})
    const general = `${s.prefix}dv2000.general`
    // The stack has one broker: a replication factor of 3 is refused for good (INVALID_REPLICATION_FACTOR).
    const bridge = await start(s.config({ topics: { create: true, replicationFactor: 3 } }), s.dir)
    await expect.poll(async () => ((await readyz(bridge.url)).body['held'] as Held).map((h) => [h.topic, h.reason]), { timeout: 60_000, interval: 250 }).toEqual([[general, 'topic_missing']])
    await waitDelivering(bridge.url, 'kafka')
    const held = ((await readyz(bridge.url)).body['held'] as (Held[number] & { message: string })[])[0]!
    expect(held.message, held.message).toMatch(/^Kafka refused to create topic .*dv2000\.general: .*INVALID_REPLICATION_FACTOR/)
    expect((await sendGeneral(bridge.url, 1)).status).toBe(202)
    expect((await send(bridge.url, 'room-1', 1)).status).toBe(200)
  })

  it('a subject the registry refuses holds only its topic (readyz 503 names it, SPEC §3); other topics are delivered (200)', { timeout: 120_000 }, async () => {
    const s = await setup()
    const subject = `${s.prefix}dv2000.general-value`
    const headers = { 'content-type': 'application/vnd.schemaregistry.v1+json' }
    const registry = inject('schemaRegistryUrl')
    const unrelated = JSON.stringify({ type: 'record', name: 'Unrelated', fields: [{ name: 'x', type: 'int' }] })
    expect((await fetch(`${registry}/subjects/${subject}/versions`, { method: 'POST', headers, body: JSON.stringify({ schema: unrelated }) })).status).toBe(200)
    expect((await fetch(`${registry}/config/${subject}`, { method: 'PUT', headers, body: JSON.stringify({ compatibility: 'FULL_TRANSITIVE' }) })).status).toBe(200)
    const bridge = await start(s.config(), s.dir)
    await expect.poll(async () => ((await readyz(bridge.url)).body['held'] as Held).map((h) => [h.topic, h.reason]), { timeout: 60_000, interval: 250 }).toEqual([[`${s.prefix}dv2000.general`, 'registry_refused']])
    await waitDelivering(bridge.url, 'kafka')
    expect((await sendGeneral(bridge.url, 1)).status).toBe(202)
    expect((await send(bridge.url, 'room-1', 1)).status).toBe(200)
    const ready = await readyz(bridge.url)
    expect(ready.status).toBe(503)
    expect(ready.body['refusedSubjects']).toEqual([subject])
    expect(bridge.output().split('\n').filter((l) => l.includes(`"topic ${s.prefix}dv2000.general is held`) && l.includes('(subject refused)'))).toHaveLength(1)
  })
})

describe('SIGTERM', () => {
  it('replays the spool while Kafka answers before it exits: an instance stopped while Kafka is up leaves an empty spool', { timeout: 180_000 }, async () => {
    const s = await setup()
    // Small replay batches: the drain takes many produce calls, as a real backlog does.
    const config = s.config({ kafka: { brokers: [inject('kafkaBrokers')], ackTimeoutMs: 1_500, probeIntervalMs: 1_000, maxBatchRecords: 5 }, shutdownGraceMs: 60_000 })
    const bridge = await start(config, s.dir)
    await expect.poll(async () => (await send(bridge.url, 'warm', 0)).status, { timeout: 60_000, interval: 500 }).toBe(200)
    stallBroker()
    const sent: Sent[] = []
    for (let seq = 1; seq <= 120; seq++) sent.push(await send(bridge.url, `room-${seq % 4}`, seq))
    expect(sent.every((a) => a.status === 202)).toBe(true)
    resumeBroker()
    bridge.kill('SIGTERM')
    expect(await bridge.exited).toBe(0)
    expect(bridge.output()).toContain('stopped cleanly: the spool is empty')

    const file = join(s.dir, 'status.yaml')
    writeFileSync(file, JSON.stringify(config))
    const status = JSON.parse(execFileSync(process.execPath, ['--import', 'tsx', 'src/main.ts', 'spool', 'status', '--config', file, '--json'], { encoding: 'utf8' })) as { entries: number }
    expect(status.entries).toBe(0)
    await expectDeliveredInOrder(s.prefix, sent)
  })

  it('with Kafka stalled, stops at once (exit 0) and keeps what it could not replay; the next start on the folder delivers it', { timeout: 180_000 }, async () => {
    const s = await setup()
    const bridge = await start(s.config(), s.dir)
    await expect.poll(async () => (await send(bridge.url, 'warm', 0)).status, { timeout: 60_000, interval: 500 }).toBe(200)
    stallBroker()
    const sent: Sent[] = []
    for (let seq = 1; seq <= 5; seq++) sent.push(await send(bridge.url, `room-${seq % 2}`, seq))
    expect(sent.map((a) => a.status)).toEqual(Array(5).fill(202))
    bridge.kill('SIGTERM')
    // Within the grace period (8 s), not by the force-exit timer after it (exit 1).
    expect(await bridge.exited).toBe(0)
    expect(bridge.output()).toContain('stopped with entries left in the spool')
    resumeBroker()
    const next = await start(s.config(), s.dir)
    await expectDeliveredInOrder(s.prefix, sent)
    await expect.poll(async () => ((await readyz(next.url)).body['spool'] as { entries: number }).entries, { timeout: 60_000, interval: 250 }).toBe(0)
  })
})
