// SPEC §5 against the real broker and registry, the bridge as a child process: outages and crashes lose no acknowledged event.
import { execFileSync } from 'node:child_process'
import { appendFileSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { childSetup, startChild, waitDelivering, type ChildBridge, type ChildSetup } from './support/child-bridge.js'
import { runCli } from './support/cli.js'
import { alterTopic, consume, createTopic } from './support/kafka.js'
import { acknowledged, consumeIds, count, expectAllPresent, expectDeliveredInOrder, expectOrderPerKey, metric, send, STREAM_SECRET, waitFor, type Sent } from './support/stream.js'
import { stack, stackAsync } from './support/stack.js'

const SECRET = STREAM_SECRET
const children: ChildBridge[] = []

afterEach(async () => {
  for (const child of children.splice(0)) {
    child.kill('SIGKILL')
    await child.exited
  }
  // Whatever a test broke, the next one starts with the whole stack up.
  stack('up')
})

const setup = (): Promise<ChildSetup> => childSetup('outage', SECRET)

async function start(config: Record<string, unknown>, dir: string): Promise<ChildBridge> {
  const child = await startChild(config, dir)
  children.push(child)
  return child
}

describe('Kafka outage', () => {
  it('accepts into the spool (202) while the broker is killed, and delivers everything in order per key once it is back', { timeout: 240_000 }, async () => {
    const s = await setup()
    const bridge = await start(s.config(), s.dir)
    await waitDelivering(bridge.url, 'kafka')
    // Idle and connected: the probe, not traffic, says Kafka is up.
    await expect.poll(() => metric(bridge.url, 'bridge_kafka_up'), { timeout: 30_000, interval: 200 }).toBe(1)
    const sent: Sent[] = [await send(bridge.url, 'warm', 0)]
    expect(sent[0]!.status, bridge.output()).toBe(200)

    stack('kill9', 'kafka')
    // No request since the kill: only the idle probe can notice.
    await expect.poll(() => metric(bridge.url, 'bridge_kafka_up'), { timeout: 30_000, interval: 200 }).toBe(0)
    for (let seq = 1; seq <= 60; seq++) sent.push(await send(bridge.url, `room-${seq % 5}`, seq))
    const during = sent.slice(1).map((s) => s.status)
    expect(during.every((status) => status === 202 || status === 200), `statuses: ${during.join(',')}`).toBe(true)
    expect(during.filter((status) => status === 202).length).toBeGreaterThanOrEqual(55)
    const ready = await waitDelivering(bridge.url, 'spool')
    expect(ready).toMatchObject({ status: 'ready', delivering: 'spool' })
    // Once a produce call has failed, readiness says Kafka is unreachable rather than the last good state.
    await expect.poll(async () => ((await (await fetch(`${bridge.url}/readyz`)).json()) as { kafka: string }).kafka, { timeout: 30_000, interval: 500 }).toBe('unreachable')
    expect((ready['spool'] as { entries: number }).entries).toBeGreaterThan(0)
    // The operator's view of the same backlog, from the command line, while the bridge runs.
    const file = join(s.dir, 'status.yaml')
    writeFileSync(file, JSON.stringify(s.config()))
    const cli = execFileSync(process.execPath, ['--import', 'tsx', 'src/main.ts', 'spool', 'status', '--config', file, '--json'], { encoding: 'utf8' })
    const status = JSON.parse(cli) as { entries: number; records: number; bytes: number; oldestAgeSeconds: number }
    expect(status.entries).toBeGreaterThanOrEqual(55)
    expect(status.records).toBe(status.entries)
    expect(status.bytes).toBeGreaterThan(0)
    expect(status.oldestAgeSeconds).toBeGreaterThanOrEqual(0)

    stack('up', 'kafka')
    await waitDelivering(bridge.url, 'kafka', 90_000)
    const ids = acknowledged(sent)
    const records = await consumeIds(s.prefix, ids)
    expectAllPresent(records, ids)
    expectOrderPerKey(records)
    // Replayed late: Kafka's timestamp is the replay's, so the topic's retention counts from delivery, not receipt.
    expect(records.filter((r) => r.timestamp < Date.parse(r.headers['received_at']!))).toEqual([])
    // Replayed, a record keeps its CloudEvents identity and time: ce_id its answer's event_id, ce_time the event's own.
    expect(records.filter((r) => r.headers['ce_id'] !== r.headers['event_id'] || r.headers['ce_time'] !== '2023-09-13T15:07:46.000Z')).toEqual([])
    const metrics = await (await fetch(`${bridge.url}/metrics`)).text()
    expect(metrics).toMatch(/^bridge_spool_entries 0$/m)
    expect(Number(/^bridge_spool_replayed_records_total (\d+)/m.exec(metrics)?.[1])).toBeGreaterThanOrEqual(55)
    expect(Number(/^bridge_replayed_total\{kind="spool"\} (\d+)/m.exec(metrics)?.[1])).toBeGreaterThanOrEqual(55)
    // Acknowledged records, direct and replayed, by topic.
    expect(await metric(bridge.url, `bridge_records_produced_total{topic="${s.prefix}dv2000.hospitality"}`)).toBeGreaterThanOrEqual(ids.length)
    await expect.poll(() => metric(bridge.url, 'bridge_kafka_up'), { timeout: 30_000, interval: 200 }).toBe(1)
  })
})

describe('Kafka flapping under load', () => {
  it('loses nothing and keeps per-key order while the broker is killed and restarted twice under a steady stream', { timeout: 240_000 }, async () => {
    const s = await setup()
    const bridge = await start(s.config(), s.dir)
    await waitDelivering(bridge.url, 'kafka')
    const sent: Sent[] = []
    let seq = 0
    let streaming = true
    const lanes = Promise.all(
      Array.from({ length: 6 }, async (_, lane) => {
        while (streaming) {
          sent.push(await send(bridge.url, `lane-${lane}`, ++seq))
          // About 300 events/s in all: a busy hotel group, and a test that stays short.
          await new Promise((r) => setTimeout(r, 20))
        }
      }),
    )
    // stackAsync: a test blocked in execFileSync would leave keep-alive sockets idle past the server's
    // keepAliveTimeout and then reuse them as the server closes them (a client artefact, not the bridge's).
    // Each step waits for what it needs to see, however long the machine takes.
    const flap = async (round: number): Promise<void> => {
      const [ok, spooled] = [count(sent, 200), count(sent, 202)]
      await stackAsync('kill9', 'kafka')
      await waitFor(() => count(sent, 202) >= spooled + 30, `30 more events spooled after kill ${round}`)
      await stackAsync('up', 'kafka')
      const back = Date.now()
      await waitDelivering(bridge.url, 'kafka', 120_000)
      recoveries.push(Date.now() - back)
      await waitFor(() => count(sent, 200) >= ok + 50, `50 more events produced after restart ${round}`)
    }
    const recoveries: number[] = []
    await waitFor(() => count(sent, 200) >= 50, '50 events produced before the first kill')
    await flap(1)
    await flap(2)
    // How long the bridge took to deliver straight to Kafka again once `stack.sh up` said the broker serves.
    console.log(`flapping: back to delivering ${recoveries.map((ms) => `${(ms / 1000).toFixed(1)} s`).join(' and ')} after each restart`)
    streaming = false
    await lanes

    const statuses = new Map<number, number>()
    for (const x of sent) statuses.set(x.status, (statuses.get(x.status) ?? 0) + 1)
    const failures = sent.filter((x) => x.status === 0).map((x) => x.error)
    expect([...statuses.keys()].every((status) => status === 200 || status === 202), `${JSON.stringify([...statuses])} ${JSON.stringify(failures.slice(0, 3))}`).toBe(true)
    expect(statuses.get(202) ?? 0).toBeGreaterThan(0)
    expect(statuses.get(200) ?? 0).toBeGreaterThan(0)
    await waitDelivering(bridge.url, 'kafka', 120_000)
    await expectDeliveredInOrder(s.prefix, sent, 120_000)
  })
})

describe('bridge crashes', () => {
  it('loses no acknowledged event when the bridge is kill -9ed mid-stream, delivering or spooling', { timeout: 240_000 }, async () => {
    const s = await setup()
    let bridge = await start(s.config(), s.dir)
    await waitDelivering(bridge.url, 'kafka')
    const sent: Sent[] = []
    let seq = 0

    // Delivering: kill -9 while requests are in flight.
    const stream = async (count: number): Promise<void> => {
      await Promise.all(
        Array.from({ length: 8 }, async (_, lane) => {
          for (let i = 0; i < count / 8; i++) sent.push(await send(bridge.url, `lane-${lane}`, ++seq))
        }),
      )
    }
    const first = stream(400)
    await waitFor(() => acknowledged(sent).length >= 20, '20 events acknowledged before the kill')
    bridge.kill('SIGKILL')
    await first
    expect(acknowledged(sent).length).toBeGreaterThan(0)

    // Spooling: Kafka down, kill -9 the bridge while it writes to the spool.
    stack('kill9', 'kafka')
    bridge = await start(s.config(), s.dir)
    const spooledBeforeKill = count(sent, 202)
    const second = stream(400)
    await waitFor(() => count(sent, 202) >= spooledBeforeKill + 20, '20 events spooled before the kill')
    bridge.kill('SIGKILL')
    await second
    const spooledBefore = sent.filter((x) => x.status === 202).length
    expect(spooledBefore).toBeGreaterThan(0)

    stack('up', 'kafka')
    bridge = await start(s.config(), s.dir)
    await waitDelivering(bridge.url, 'kafka', 90_000)
    const ids = acknowledged(sent)
    const records = await consumeIds(s.prefix, ids)
    expectAllPresent(records, ids)
  })

  it('SIGTERM under load finishes in-flight requests, exits 0 and loses nothing acknowledged', { timeout: 240_000 }, async () => {
    const s = await setup()
    const bridge = await start(s.config(), s.dir)
    await waitDelivering(bridge.url, 'kafka')
    const sent: Sent[] = []
    let seq = 0
    const load = Promise.all(
      Array.from({ length: 8 }, async (_, lane) => {
        for (let i = 0; i < 100; i++) sent.push(await send(bridge.url, `lane-${lane}`, ++seq))
      }),
    )
    await waitFor(() => acknowledged(sent).length >= 20, '20 events acknowledged before SIGTERM')
    bridge.kill('SIGTERM')
    await load
    expect(await bridge.exited).toBe(0)
    expect(bridge.output()).toContain('stopped cleanly')
    const ids = acknowledged(sent)
    expect(ids.length).toBeGreaterThan(0)
    // Every request got an answer or a refused connection, never a cut-off 2xx-less reply counted as stored.
    expect(sent.every((x) => x.status === 0 || x.status === 200 || x.status === 202 || x.status === 503)).toBe(true)
    const records = await consumeIds(s.prefix, ids)
    expectAllPresent(records, ids)
  })
})

describe('registry outage', () => {
  it('keeps answering 200 with the registry stopped after warm-up, and spools (202) at a cold start without it, delivering later', { timeout: 240_000 }, async () => {
    const s = await setup()
    const warm = await start(s.config(), s.dir)
    await waitDelivering(warm.url, 'kafka')
    const sent: Sent[] = [await send(warm.url, 'r1', 1)]
    stack('down', 'registry')
    sent.push(await send(warm.url, 'r1', 2))
    expect(sent.map((x) => x.status)).toEqual([200, 200])
    warm.kill('SIGTERM')
    await warm.exited
    children.splice(children.indexOf(warm), 1)

    // A restart with the registry still down: ids come from the cache on disk beside the spool.
    const restarted = await start(s.config(), s.dir)
    await waitDelivering(restarted.url, 'kafka')
    sent.push(await send(restarted.url, 'r1', 3))
    expect(sent[2]!.status).toBe(200)
    restarted.kill('SIGTERM')
    await restarted.exited
    children.splice(children.indexOf(restarted), 1)

    // A cold start (new spool, new topics: no id known anywhere): accepted into the spool.
    const cold = await setup()
    const coldBridge = await start(cold.config(), cold.dir)
    const coldSent = [await send(coldBridge.url, 'c1', 1), await send(coldBridge.url, 'c1', 2)]
    expect(coldSent.map((x) => x.status)).toEqual([202, 202])
    stack('up', 'registry')
    await waitDelivering(coldBridge.url, 'kafka', 90_000)
    const coldRecords = await consumeIds(cold.prefix, acknowledged(coldSent))
    expectAllPresent(coldRecords, acknowledged(coldSent))
    expectOrderPerKey(coldRecords)
    const records = await consumeIds(s.prefix, acknowledged(sent))
    expectAllPresent(records, acknowledged(sent))
  })
})

describe('spool limits and damage', () => {
  it('answers 503 when the spool is full, loses nothing it acknowledged, and recovers a torn last entry', { timeout: 240_000 }, async () => {
    const s = await setup()
    const config = s.config({ spool: { dir: join(s.dir, 'spool'), maxBytes: 64 * 1024 } })
    let bridge = await start(config, s.dir)
    await waitDelivering(bridge.url, 'kafka')
    stack('kill9', 'kafka')
    const sent: Sent[] = []
    for (let seq = 1; seq <= 400; seq++) {
      const result = await send(bridge.url, 'full', seq)
      sent.push(result)
      if (result.status === 503) break
    }
    const statuses = sent.map((x) => x.status)
    expect(statuses.at(-1)).toBe(503)
    expect(statuses.filter((x) => x === 202).length).toBeGreaterThan(10)
    await expect.poll(() => bridge.output(), { timeout: 5_000 }).toContain('SPOOL_FULL')
    const metrics = await (await fetch(`${bridge.url}/metrics`)).text()
    expect(metrics).toMatch(/bridge_requests_total\{source="front-desk",outcome="unavailable"\} [1-9]/)

    // kill -9, then tear the last segment as a crash in the middle of a write would.
    bridge.kill('SIGKILL')
    await bridge.exited
    children.splice(children.indexOf(bridge), 1)
    const spoolDir = join(s.dir, 'spool')
    const last = readdirSync(spoolDir).filter((n) => n.endsWith('.seg')).sort().at(-1)!
    appendFileSync(join(spoolDir, last), Buffer.from([0, 0, 1, 0, 0xde, 0xad, 0xbe, 0xef, 1, 2, 3]))

    stack('up', 'kafka')
    bridge = await start(config, s.dir)
    await expect.poll(() => bridge.output(), { timeout: 5_000 }).toContain('cut a torn last entry')
    await waitDelivering(bridge.url, 'kafka', 90_000)
    await expectDeliveredInOrder(s.prefix, sent)
  })
})

describe('records Kafka refuses for good', () => {
  it('sets aside only the record over the topic\'s size limit; every other acknowledged event of its batch reaches Kafka in order', { timeout: 240_000 }, async () => {
    const s = await setup()
    // The bridge leaves an existing topic as it is: this one takes records of 4 KiB at most (batches too).
    await createTopic(`${s.prefix}dv2000.hospitality`, { 'max.message.bytes': '4096' })
    const bridge = await start(s.config(), s.dir)
    await waitDelivering(bridge.url, 'kafka')
    stack('kill9', 'kafka')
    const sent: Sent[] = []
    for (let seq = 1; seq <= 30; seq++) sent.push(await send(bridge.url, `room-${seq % 4}`, seq, seq === 17 ? 6_000 : 0))
    expect(sent.map((x) => x.status)).toEqual(Array(30).fill(202))
    const tooLarge = sent[16]!.eventId!

    stack('up', 'kafka')
    await waitDelivering(bridge.url, 'kafka', 90_000)
    const good = acknowledged(sent).filter((id) => id !== tooLarge)
    const records = await consumeIds(s.prefix, good)
    expectAllPresent(records, good)
    expectOrderPerKey(records)
    expect(records.some((r) => r.headers['event_id'] === tooLarge)).toBe(false)
    // Kept on disk, alone, for an operator, with a note of why; the log says where.
    const rejected = readdirSync(join(s.dir, 'spool', 'rejected')).filter((name) => name.endsWith('.frames'))
    expect(rejected).toHaveLength(1)
    await expect.poll(() => bridge.output(), { timeout: 10_000 }).toContain('"records":1,"of":')

    // The operator lists it (the bridge still running on that spool)...
    const topic = `${s.prefix}dv2000.hospitality`
    const listed = await runCli(['spool', 'rejected', '--json'], s.config())
    expect(listed.code).toBe(0)
    expect(JSON.parse(listed.stdout)).toEqual([
      expect.objectContaining({ file: join(s.dir, 'spool', 'rejected', rejected[0]!), records: 1, topics: [topic], code: 'KAFKA_REJECTED', reason: expect.stringMatching(/MESSAGE_TOO_LARGE/) }),
    ])
    // ...replays it before fixing anything: still refused, kept...
    const early = await runCli(['spool', 'rejected', '--replay'], s.config())
    expect(early.code).toBe(1)
    expect(early.stdout).toMatch(/^still refused .*\.frames: Kafka refused/m)
    expect(readdirSync(join(s.dir, 'spool', 'rejected')).filter((name) => name.endsWith('.frames'))).toEqual(rejected)
    // ...raises the topic's limit and replays it: on Kafka with its own event_id and time, the file gone.
    await alterTopic(topic, { 'max.message.bytes': '1048588' })
    const metricsFile = join(s.dir, 'replay.prom')
    const replay = await runCli(['spool', 'rejected', '--replay', '--metrics-file', metricsFile], s.config())
    expect(replay.stdout).toMatch(/^replayed .*\.frames \(1 record\)\n1 file: 1 replayed \(1 record\), 0 still refused\n$/)
    expect(replay.code).toBe(0)
    expect(readFileSync(metricsFile, 'utf8')).toMatch(/^bridge_replayed_total\{kind="rejected"\} 1$/m)
    const [back] = await consume(topic, (r) => r.some((x) => x.headers['event_id'] === tooLarge)).then((r) => r.filter((x) => x.headers['event_id'] === tooLarge))
    expect(back!.headers['replayed_from']).toBe(`rejected/${rejected[0]}`)
    expect(back!.timestamp).toBeGreaterThan(Date.parse(back!.headers['received_at']!))
    expect(readdirSync(join(s.dir, 'spool', 'rejected')).filter((name) => !name.includes('LOCK'))).toEqual([])
    expect((await runCli(['spool', 'rejected'], s.config())).stdout).toBe('nothing set aside\n')
  })
})
