// SPEC §5 against a real three-broker cluster (RF 3, min.insync.replicas 2) under a steady stream: every 2xx on Kafka,
// per-key order of first occurrences kept, through a leader's crash, a rolling restart, two brokers down, and the controller's crash.
import { randomUUID } from 'node:crypto'
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Kafka, logLevel } from 'kafkajs'
import { afterEach, describe, expect, inject, it } from 'vitest'
import { freePort, startChild, waitDelivering, type ChildBridge } from '../integration/support/child-bridge.js'
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { stackAsync } from '../integration/support/stack.js'
import { acknowledged, consumeIds, count, expectAllPresent, expectOrderPerKey, send, STREAM_SECRET, waitFor, type Sent } from '../integration/support/stream.js'

/** Each test's bridge logs, kept for a look after a failure (var/ is git-ignored). */
const LOG_DIR = join(import.meta.dirname, '../../var/cluster-logs')
const children: ChildBridge[] = []
afterEach(async (context) => {
  mkdirSync(LOG_DIR, { recursive: true })
  for (const [i, child] of children.splice(0).entries()) {
    child.kill('SIGKILL')
    await child.exited
    writeFileSync(join(LOG_DIR, `${context.task.name.slice(0, 40).replace(/[^a-z0-9]+/gi, '-')}-${i}.log`), child.output())
  }
  // Whatever a test broke, the next one starts with every node up.
  await stackAsync('up', 'kafka')
})

async function bridge(spool = mkdtempSync(join(tmpdir(), 'bridge-cluster-')), prefix = `cl-${randomUUID().slice(0, 8)}.`, port?: number): Promise<{ child: ChildBridge; prefix: string; spool: string; port: number }> {
  const httpPort = port ?? (await freePort())
  const child = await startChild(
    {
      http: { host: '127.0.0.1', port: httpPort },
      kafka: { brokers: inject('kafkaBrokers').split(','), ackTimeoutMs: 5_000 },
      schemaRegistry: { url: inject('schemaRegistryUrl') },
      topicPrefix: prefix,
      topics: { partitions: 3 },
      spool: { dir: join(spool, 'spool') },
      log: { level: 'info' },
      sources: [{ id: 'front-desk', type: 'dv2000', secrets: [STREAM_SECRET] }],
    },
    spool,
  )
  children.push(child)
  await waitDelivering(child.url, 'kafka', 120_000)
  return { child, prefix, spool, port: httpPort }
}

interface Timed extends Sent {
  ms: number
}

/**
 * Six lanes, two rooms each (named with `tag`), until stopped; every answer with how long it took. A room belongs to
 * one lane, so its requests go one after another, as a sender's do: their order is the order to find on Kafka.
 */
function stream(url: () => string, tag = '') {
  const sent: Timed[] = []
  let seq = 0
  let running = true
  const lanes = Promise.all(
    Array.from({ length: 6 }, async (_, lane) => {
      while (running) {
        const started = performance.now()
        const result = await send(url(), `${tag}room-${lane}-${seq % 2}`, ++seq)
        sent.push({ ...result, ms: performance.now() - started })
        await new Promise((r) => setTimeout(r, 10))
      }
    }),
  )
  return {
    sent,
    async stop(): Promise<void> {
      running = false
      await lanes
    },
  }
}

/** What the answers during a fault were: counts of 200, 202 and other, and the longest answer. */
function summary(what: string, answers: readonly Timed[]): string {
  const other = answers.filter((a) => a.status !== 200 && a.status !== 202).length
  const longest = Math.max(0, ...answers.map((a) => a.ms))
  return `${what}: ${answers.length} answers, ${count(answers, 200)} × 200, ${count(answers, 202)} × 202, ${other} other, longest ${(longest / 1000).toFixed(2)} s`
}

async function leaderOf(topic: string, partition: number): Promise<number> {
  const admin = new Kafka({ clientId: 'cluster-it', brokers: inject('kafkaBrokers').split(','), logLevel: logLevel.NOTHING }).admin()
  await admin.connect()
  try {
    const { topics } = await admin.fetchTopicMetadata({ topics: [topic] })
    return topics[0]!.partitions.find((p) => p.partitionId === partition)!.leader
  } finally {
    await admin.disconnect()
  }
}

/** True when `node` is in the ISR of every partition of `topic`: back in sync after a restart. */
async function inSync(topic: string, node: number): Promise<boolean> {
  const admin = new Kafka({ clientId: 'cluster-it', brokers: inject('kafkaBrokers').split(','), logLevel: logLevel.NOTHING }).admin()
  await admin.connect()
  try {
    const { topics } = await admin.fetchTopicMetadata({ topics: [topic] })
    return topics[0]!.partitions.every((p) => p.isr.includes(node))
  } finally {
    await admin.disconnect()
  }
}

/** The active controller's node name, from the quorum itself. */
async function activeController(): Promise<string> {
  const { stdout } = await promisify(execFile)('bash', [inject('stackScript'), 'controller'], { env: { ...process.env, ...inject('stackEnv') } })
  return stdout.trim()
}

/** Every answer was 200 or 202, all of those are on Kafka, and per room the first occurrences are in order. */
async function expectNothingLost(prefix: string, sent: readonly Timed[]): Promise<void> {
  const failures = sent.filter((x) => x.status !== 200 && x.status !== 202)
  expect(failures.map((f) => `${f.status} ${f.error ?? ''}`), 'answers other than 200/202').toEqual([])
  const ids = acknowledged([...sent])
  const records = await consumeIds(prefix, ids, 180_000)
  expectAllPresent(records, ids)
  expectOrderPerKey(records)
}

describe('a three-broker cluster under a steady stream', () => {
  it('kill -9 of the leader of a partition the stream writes, then its restart: nothing lost, order kept', async () => {
    const b = await bridge()
    const s = stream(() => b.child.url)
    await waitFor(() => count(s.sent, 200) >= 100, '100 events produced before the fault')
    const leader = await leaderOf(`${b.prefix}dv2000.hospitality`, 0)
    const from = s.sent.length
    await stackAsync('kill9', `kafka-${leader}`)
    await waitFor(() => count(s.sent.slice(from), 200) + count(s.sent.slice(from), 202) >= 200, '200 answers with the leader dead')
    await stackAsync('up', `kafka-${leader}`)
    const during = s.sent.slice(from)
    await waitFor(() => count(s.sent.slice(from + during.length), 200) >= 100, '100 events produced after the restart')
    await s.stop()
    console.log(summary(`leader kafka-${leader} killed`, during))
    await waitDelivering(b.child.url, 'kafka', 180_000)
    await expectNothingLost(b.prefix, s.sent)
  })
})

describe('a three-broker cluster, more faults', () => {
  it('a rolling restart of all three brokers (SIGTERM one, wait until it is back in the ISR, next): nothing lost', async () => {
    const b = await bridge()
    const topic = `${b.prefix}dv2000.hospitality`
    const s = stream(() => b.child.url)
    await waitFor(() => count(s.sent, 200) >= 100, '100 events produced before the restarts')
    const from = s.sent.length
    for (const node of [1, 2, 3]) {
      await stackAsync('down', `kafka-${node}`)
      const stopped = s.sent.length
      await waitFor(() => s.sent.length >= stopped + 100, `100 answers with kafka-${node} stopped`)
      await stackAsync('up', `kafka-${node}`)
      await expect.poll(() => inSync(topic, node), { timeout: 180_000, interval: 500 }).toBe(true)
    }
    const during = s.sent.slice(from)
    await waitFor(() => count(s.sent.slice(from + during.length), 200) >= 100, '100 events produced after the restarts')
    await s.stop()
    console.log(summary('rolling restart of kafka-1..3', during))
    await waitDelivering(b.child.url, 'kafka', 180_000)
    await expectNothingLost(b.prefix, s.sent)
  })

  it('two brokers down (below min.insync.replicas): the bridge spools (202) and delivers when one returns', async () => {
    const b = await bridge()
    const s = stream(() => b.child.url)
    await waitFor(() => count(s.sent, 200) >= 100, '100 events produced before the fault')
    const from = s.sent.length
    await stackAsync('kill9', 'kafka-2')
    await stackAsync('kill9', 'kafka-3')
    await waitFor(() => count(s.sent.slice(from), 202) >= 50, '50 events spooled with two brokers down')
    await stackAsync('up', 'kafka-2')
    const during = s.sent.slice(from)
    await waitDelivering(b.child.url, 'kafka', 180_000)
    await waitFor(() => count(s.sent.slice(from + during.length), 200) >= 100, '100 events produced with one broker back')
    await s.stop()
    console.log(summary('kafka-2 and kafka-3 killed', during))
    expect(count(during, 202)).toBeGreaterThanOrEqual(50)
    await expectNothingLost(b.prefix, s.sent)
  })

  it('the active controller killed, then restarted: nothing lost, order kept', async () => {
    const b = await bridge()
    const s = stream(() => b.child.url)
    await waitFor(() => count(s.sent, 200) >= 100, '100 events produced before the fault')
    const controller = await activeController()
    const from = s.sent.length
    await stackAsync('kill9', controller)
    await waitFor(() => s.sent.length >= from + 200, `200 answers with ${controller} (the controller) dead`)
    await stackAsync('up', controller)
    const during = s.sent.slice(from)
    await waitFor(() => count(s.sent.slice(from + during.length), 200) >= 100, '100 events produced after the restart')
    await s.stop()
    console.log(summary(`controller ${controller} killed`, during))
    await waitDelivering(b.child.url, 'kafka', 180_000)
    await expectNothingLost(b.prefix, s.sent)
  })
})

describe('several bridge instances', () => {
  it('two instances, each with its own spool: one is kill -9ed under load and restarted, every acknowledged event is found', async () => {
    const prefix = `cl-${randomUUID().slice(0, 8)}.`
    const a = await bridge(undefined, prefix)
    const b = await bridge(undefined, prefix)
    let bUrl = b.child.url
    // Each instance its own rooms: per-key order is promised when a source goes through one instance at a time.
    const onA = stream(() => a.child.url, 'a-')
    const onB = stream(() => bUrl, 'b-')
    await waitFor(() => count(onB.sent, 200) >= 100, '100 events through the second instance')
    b.child.kill('SIGKILL')
    await b.child.exited
    children.splice(children.indexOf(b.child), 1)
    const gone = onB.sent.length
    await waitFor(() => onB.sent.slice(gone).some((x) => x.status === 0), 'the dead instance refusing connections')
    const restarted = await bridge(b.spool, prefix, b.port)
    bUrl = restarted.child.url
    await waitFor(() => count(onB.sent.slice(gone), 200) >= 100, '100 events through the restarted instance')
    await Promise.all([onA.stop(), onB.stop()])
    // Requests the dead instance never answered (status 0) were never acknowledged: a sender would see them fail.
    const answered = [...onA.sent, ...onB.sent.filter((x) => x.status !== 0)]
    await expectNothingLost(prefix, answered)
  })
})
