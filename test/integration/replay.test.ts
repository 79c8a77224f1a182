// Nothing refused stays stuck: dead letters replayed through today's parser and config, with the CLI, against the real
// broker and registry (records decoded through the registry), selected by source, event id and time.
import { readFileSync } from 'node:fs'
import { randomUUID } from 'node:crypto'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import avsc from 'avsc'
import { Kafka, logLevel } from 'kafkajs'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { rawPostExample, roomUpdateText } from '../fixtures/dv2000/index.js'
import { DV2000_SECRET, startBridge, testConfig, type RunningBridge } from './support/bridge.js'
import { runCli } from './support/cli.js'
import { consume, post } from './support/kafka.js'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
/** Two days ago (within the topics' retention): an "older version" wrote its dead letter then. */
const OLD_TIME = Date.now() - 2 * 86_400_000

/** Records stored in a topic (high minus low watermarks), read or not. */
async function stored(topic: string): Promise<number> {
  const admin = new Kafka({ clientId: 'it-offsets', brokers: [inject('kafkaBrokers')], logLevel: logLevel.NOTHING }).admin()
  await admin.connect()
  try {
    if (!(await admin.listTopics()).includes(topic)) return 0
    return (await admin.fetchTopicOffsets(topic)).reduce((n, p) => n + Number(p.high) - Number(p.low), 0)
  } finally {
    await admin.disconnect()
  }
}

/**
 * A dead letter the way an older bridge wrote it: schema v1 (no user_agent), its record timestamp the produce time.
 * Its body is an event today's parser reads.
 */
async function oldDeadLetter(topic: string, eventId: string, body: Buffer): Promise<void> {
  const v1Text = readFileSync(join(ROOT, 'schemas/history/dead_letter/v1.avsc'), 'utf8')
  const registered = await fetch(`${inject('schemaRegistryUrl')}/subjects/${encodeURIComponent(`${topic}-value`)}/versions`, {
    method: 'POST',
    headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' },
    body: JSON.stringify({ schema: JSON.stringify(JSON.parse(v1Text)) }),
  })
  expect(registered.status).toBe(200)
  const { id } = (await registered.json()) as { id: number }
  const v1 = avsc.Type.forSchema(JSON.parse(v1Text) as avsc.Schema)
  const avro = v1.toBuffer({
    event_id: eventId,
    source: 'front-desk',
    source_type: 'dv2000',
    received_at: OLD_TIME,
    reason: 'an older version refused this',
    content_type: 'application/json',
    remote_address: '10.1.2.3',
    body,
  })
  const header = Buffer.alloc(5)
  header.writeUInt32BE(id, 1)
  const producer = new Kafka({ clientId: 'it-old-bridge', brokers: [inject('kafkaBrokers')], logLevel: logLevel.NOTHING }).producer()
  await producer.connect()
  try {
    await producer.send({
      topic,
      acks: -1,
      messages: [
        {
          key: 'front-desk',
          value: Buffer.concat([header, avro]),
          headers: { event_id: eventId, source: 'front-desk', received_at: new Date(OLD_TIME).toISOString() },
          timestamp: String(OLD_TIME + 4_000),
        },
      ],
    })
  } finally {
    await producer.disconnect()
  }
}

describe('deadletter replay', () => {
  let bridge: RunningBridge
  let prefix: string
  /** The config the bridge ran with: its "lobby" source set up as Servio by mistake. */
  let before: Record<string, unknown>
  /** The operator's fix: lobby is a DV2000 source. */
  let fixed: Record<string, unknown>
  const ids: { wrongType?: string; rawExample?: string; old: string } = { old: randomUUID() }
  let startedAt = 0

  beforeAll(async () => {
    const frontDesk = { id: 'front-desk', type: 'dv2000', secrets: [DV2000_SECRET] }
    const config = testConfig({ sources: [frontDesk, { id: 'lobby', type: 'servio', secrets: [DV2000_SECRET] }] })
    prefix = config.topicPrefix
    const raw = {
      kafka: { brokers: [inject('kafkaBrokers')] },
      schemaRegistry: { url: inject('schemaRegistryUrl') },
      topicPrefix: prefix,
      topics: { partitions: 3 },
      spool: { dir: config.spool.dir },
      log: { level: 'warn' },
    }
    before = { ...raw, sources: [frontDesk, { id: 'lobby', type: 'servio', secrets: [DV2000_SECRET] }] }
    fixed = { ...raw, sources: [frontDesk, { id: 'lobby', type: 'dv2000', secrets: [DV2000_SECRET] }] }
    // First on the topic, as it would be: the dead letter an older version wrote months ago.
    await oldDeadLetter(`${prefix}bridge.deadletter`, ids.old, Buffer.from(roomUpdateText()))
    bridge = await startBridge(config)
    startedAt = Date.now()

    // A DV2000 system posting to a source configured as Servio: refused, kept.
    const wrongType = await post(`${bridge.url}/v1/servio/lobby?token=${DV2000_SECRET}`, roomUpdateText(), { 'user-agent': 'DuVoice/8.0.20' })
    expect(wrongType.status).toBe(400)
    ids.wrongType = wrongType.json['event_id'] as string
    // The document's own raw example is not JSON: refused today, and for ever.
    const rawExample = await post(`${bridge.url}/v1/dv2000/front-desk?token=${DV2000_SECRET}`, rawPostExample())
    expect(rawExample.status).toBe(400)
    ids.rawExample = rawExample.json['event_id'] as string
    await bridge.close()
  })
  afterAll(async () => {
    await bridge?.close()
  })

  it('--dry-run says what each dead letter would become under the fixed config, and produces nothing', async () => {
    const run = await runCli(['deadletter', 'replay', '--dry-run'], fixed)
    expect(run.stderr).toBe('')
    expect(run.code).toBe(1)
    const lines = run.stdout.trim().split('\n')
    expect(lines).toEqual(
      expect.arrayContaining([
        `would replay ${ids.wrongType} -> ${prefix}dv2000.hospitality (1 record)`,
        `would replay ${ids.old} -> ${prefix}dv2000.hospitality (1 record)`,
        expect.stringMatching(new RegExp(`^still refused ${ids.rawExample}: .*not valid JSON`)),
      ]),
    )
    expect(lines.at(-1)).toBe('3 dead letters selected (3 read): 2 would be replayed, 0 skipped, 1 still refused')
    expect(await stored(`${prefix}dv2000.hospitality`)).toBe(0)
  })

  it('under the config that refused it, a dead letter is still refused, with the reason', async () => {
    const run = await runCli(['deadletter', 'replay', '--event-id', ids.wrongType!], before)
    expect(run.code).toBe(1)
    expect(run.stdout).toMatch(new RegExp(`^still refused ${ids.wrongType}: category must be an object of Clients, Companies, Guests and Rooms`, 'm'))
    expect(run.stdout).toContain('1 dead letter selected (3 read): 0 replayed (0 records), 0 skipped, 1 still refused')
  })

  it('--until selects by time through Kafka\'s offsets for times: only the old dead letter, replayed with its own event_id and received_at', async () => {
    const run = await runCli(['deadletter', 'replay', '--until', new Date(Date.now() - 86_400_000).toISOString()], fixed)
    // One record read: the span ends at Kafka's offset for the time, the rest of the topic is not scanned.
    expect(run.stdout).toBe(`replayed ${ids.old} -> ${prefix}dv2000.hospitality (1 record)\n1 dead letter selected (1 read): 1 replayed (1 record), 0 skipped, 0 still refused\n`)
    expect(run.code).toBe(0)
    const [record] = await consume(`${prefix}dv2000.hospitality`, (r) => r.length >= 1)
    expect(record!.headers['event_id']).toBe(ids.old)
    expect(record!.headers['received_at']).toBe(new Date(OLD_TIME).toISOString())
    expect(record!.headers['replayed_from']).toMatch(new RegExp(`^${prefix.replace('.', '\\.')}bridge\\.deadletter/\\d+/\\d+$`))
    // Kafka's timestamp is the replay's: the topic's retention counts from now, not from two days ago.
    expect(record!.timestamp).toBeGreaterThanOrEqual(startedAt)
    expect(record!.key).toBe('100-101')
    expect(record!.value).toMatchObject({ event_id: ids.old, source: 'front-desk', event_name: 'room_update', user_agent: null })
    expect(new Date(record!.value['received_at'] as Date).getTime()).toBe(OLD_TIME)
  })

  it('--since and --source select the fixed source\'s dead letter of this session; replayed, it carries the User-Agent its request had', async () => {
    const since = new Date(startedAt - 1_000).toISOString()
    const run = await runCli(['deadletter', 'replay', '--since', since, '--source', 'lobby'], fixed)
    // Read: lobby's dead letter, and front-desk's of this session from the same span (the old one is before it).
    expect(run.stdout).toBe(`replayed ${ids.wrongType} -> ${prefix}dv2000.hospitality (1 record)\n1 dead letter selected (2 read): 1 replayed (1 record), 0 skipped, 0 still refused\n`)
    expect(run.code).toBe(0)
    const records = await consume(`${prefix}dv2000.hospitality`, (r) => r.some((x) => x.headers['event_id'] === ids.wrongType))
    const replayed = records.find((x) => x.headers['event_id'] === ids.wrongType)!
    expect(replayed.value).toMatchObject({ event_id: ids.wrongType, source: 'lobby', user_agent: 'DuVoice/8.0.20', category_name: 'hospitality' })
    expect(Date.parse(replayed.headers['received_at']!)).toBeGreaterThanOrEqual(startedAt)
    expect(replayed.headers['replayed_from']).toMatch(/bridge\.deadletter\/\d+\/\d+$/)
    // The old one was not selected again: two records in all.
    expect(await stored(`${prefix}dv2000.hospitality`)).toBe(2)
  })

  it('refuses usage errors with exit 2, naming the option', async () => {
    const badTime = await runCli(['deadletter', 'replay', '--since', 'yesterday'], fixed)
    expect(badTime.code).toBe(2)
    expect(badTime.stderr).toMatch(/--since "yesterday": expected an ISO 8601 time/)
    const noZone = await runCli(['deadletter', 'replay', '--until', '2026-11-26T10:00'], fixed)
    expect(noZone.code).toBe(2)
    const unknownSource = await runCli(['deadletter', 'replay', '--source', 'nowhere'], fixed)
    expect(unknownSource.code).toBe(2)
    expect(unknownSource.stderr).toMatch(/--source nowhere: no such source in the config \(it has front-desk, lobby\)/)
    const unknownOption = await runCli(['deadletter', 'replay', '--evnt-id', 'x'], fixed)
    expect(unknownOption.code).toBe(2)
    const help = await runCli(['deadletter', 'replay', '--help'], fixed)
    expect(help.code).toBe(0)
    expect(help.stdout).toMatch(/same event_id/)
  })
})
