// Production Kafka as companies run it, against the stack's secured broker: TLS with a private CA, SASL SCRAM, mutual TLS,
// and a principal that has exactly the ACLs it needs (granted per test on its own topic prefix) and nothing more.
import { randomUUID } from 'node:crypto'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, inject, it } from 'vitest'
import { startBridge, testConfig, type RunningBridge } from './support/bridge.js'
import { freePort, startChild, type ChildBridge } from './support/child-bridge.js'
import { runCli } from './support/cli.js'
import { post } from './support/kafka.js'
import { asAdmin, grant, grantGroups, mtlsKafka, Operation, pkiFile, saslKafka } from './support/secure-kafka.js'
import { event, metric, STREAM_SECRET } from './support/stream.js'

const bridges: RunningBridge[] = []
const children: ChildBridge[] = []
afterEach(async () => {
  await Promise.all(bridges.splice(0).map((b) => b.close()))
  for (const child of children.splice(0)) {
    child.kill('SIGKILL')
    await child.exited
  }
})

const newPrefix = (): string => `sec-${randomUUID().slice(0, 8)}.`
const SOURCES = [{ id: 'front-desk', type: 'dv2000', secrets: [STREAM_SECRET] }]

async function start(kafka: Record<string, unknown>, prefix: string, extra: Record<string, unknown> = {}, options: { waitForKafka?: boolean } = {}): Promise<RunningBridge> {
  const bridge = await startBridge(testConfig({ kafka, topicPrefix: prefix, sources: SOURCES, ...extra }), options)
  bridges.push(bridge)
  return bridge
}

const sendRoom = (bridge: RunningBridge, seq: number, padding = 0) => post(`${bridge.url}/v1/dv2000/front-desk?token=${STREAM_SECRET}`, event(`room-${seq}`, seq, padding))
const sendGeneral = (bridge: RunningBridge) =>
  post(`${bridge.url}/v1/dv2000/front-desk?token=${STREAM_SECRET}`, JSON.stringify({ category: 0, event: 0, date: 'd', time: 't', timestamp: '2023-09-13T08:07:46-07:00', service_id: 7, service_name: 'x', message: { text: 'hello' } }))

/** What the bridge's principal needs where it creates its topics: CREATE, WRITE and DESCRIBE on them, nothing else. */
const LEAST = [Operation.CREATE, Operation.WRITE, Operation.DESCRIBE]

describe('a secured Kafka', () => {
  it('SASL_SSL (SCRAM-SHA-512) with a private CA and the password from a file, as a principal with only CREATE, WRITE and DESCRIBE on its topics', async () => {
    const prefix = newPrefix()
    await grant('User:bridge', prefix, LEAST)
    const bridge = await start(saslKafka(), prefix)
    // New ACLs take a moment to reach the broker: the first events may wait in the spool, then every one is delivered.
    await expect.poll(async () => (await sendRoom(bridge, 0)).status, { timeout: 60_000, interval: 500 }).toBe(200)
    const answers = await Promise.all([1, 2, 3].map((seq) => sendRoom(bridge, seq)))
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200])
    // The idle probe needs no more than these ACLs either.
    await expect.poll(() => metric(bridge.url, 'bridge_kafka_up'), { timeout: 30_000, interval: 250 }).toBe(1)
  })

  it('mutual TLS: the client certificate\'s CN is the principal (User:bridge-mtls), with the same least privilege', async () => {
    const prefix = newPrefix()
    await grant('User:bridge-mtls', prefix, LEAST)
    const bridge = await start(mtlsKafka(), prefix)
    await expect.poll(async () => (await sendRoom(bridge, 0)).status, { timeout: 60_000, interval: 500 }).toBe(200)
  })

  it('a topic the principal may not write is held alone (authorization), named in /readyz; every other topic is delivered', async () => {
    const prefix = newPrefix()
    // CREATE and DESCRIBE on every topic of the prefix, WRITE on all but dv2000.general.
    await grant('User:bridge', prefix, [Operation.CREATE, Operation.DESCRIBE])
    for (const topic of ['dv2000.telephony', 'dv2000.system', 'dv2000.hospitality', 'dv2000.other', 'bridge.deadletter']) await grant('User:bridge', `${prefix}${topic}`, [Operation.WRITE])
    const bridge = await start(saslKafka(), prefix)
    await expect.poll(async () => (await sendRoom(bridge, 0)).status, { timeout: 60_000, interval: 500 }).toBe(200)
    expect((await sendGeneral(bridge)).status).toBe(202)
    await expect
      .poll(async () => ((await (await fetch(`${bridge.url}/readyz`)).json()) as { held: { topic: string; reason: string }[] }).held.map((h) => [h.topic, h.reason]), { timeout: 60_000, interval: 250 })
      .toEqual([[`${prefix}dv2000.general`, 'authorization']])
    // The hold names the operation the principal lacks.
    const held = ((await (await fetch(`${bridge.url}/readyz`)).json()) as { held: { message: string }[] }).held[0]!
    expect(held.message).toMatch(/^Kafka denied producing \d+ record\(s\) \(TOPIC_AUTHORIZATION_FAILED\): the bridge's principal needs WRITE on the topic$/)
    expect((await sendRoom(bridge, 1)).status).toBe(200)
    expect((await sendGeneral(bridge)).status).toBe(202)
  })

  describe('a refused connection names its cause, keeps every event in the spool (202), and delivers once fixed', () => {
    const readyz = async (bridge: RunningBridge) => (await (await fetch(`${bridge.url}/readyz`)).json()) as { kafka: string; kafkaRefusal?: string; spool: { entries: number } }

    const right = { sasl: () => saslKafka(), mtls: () => mtlsKafka() }
    it('one error line per outage, whatever kafkajs retries, and no secret in any line even at debug level', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'bridge-it-refused-'))
      const wrongPassword = `wrong-${randomUUID()}`
      writeFileSync(join(dir, 'kafka-password'), `${wrongPassword}\n`)
      const prefix = newPrefix()
      const kafka = saslKafka({ sasl: { mechanism: 'scram-sha-512', username: 'bridge', passwordFile: join(dir, 'kafka-password') } })
      const config = { ...cliConfig(kafka, prefix, { dir: join(dir, 'spool') }), http: { host: '127.0.0.1', port: await freePort() }, log: { level: 'debug' } }
      const child = await startChild(config, dir)
      children.push(child)
      const sent = await post(`${child.url}/v1/dv2000/front-desk?token=${STREAM_SECRET}`, event('room-1', 1))
      expect(sent.status).toBe(202)
      const lines = (): string[] => child.output().split('\n').filter((line) => line.startsWith('{'))
      const errors = (): string[] => lines().filter((line) => line.includes('"level":"error"'))
      await expect.poll(() => errors().length, { timeout: 60_000, interval: 250 }).toBeGreaterThanOrEqual(1)
      // Kafka refuses the replays again and again after that line: three more refused calls at least, no more lines.
      const refusedBefore = (await metric(child.url, 'bridge_produce_calls_total{result="error"}')) ?? 0
      await expect.poll(() => metric(child.url, 'bridge_produce_calls_total{result="error"}'), { timeout: 60_000, interval: 250 }).toBeGreaterThanOrEqual(refusedBefore + 3)
      expect(errors()).toEqual([expect.stringContaining('"msg":"Kafka refuses the bridge\'s connection: authentication failed: the broker refused the SASL username or password (kafka.sasl)')])
      expect(lines().filter((line) => line.includes(wrongPassword) || line.includes(STREAM_SECRET))).toEqual([])
    })

    it.each([
      ['a wrong SASL password', (prefix: string) => saslKafka({ sasl: { mechanism: 'scram-sha-512', username: 'bridge', password: `wrong-${prefix}` } }), right.sasl, /^authentication failed/],
      ['a broker certificate the CA does not sign', () => saslKafka({ caFile: pkiFile('other-ca.pem') }), right.sasl, /^certificate not trusted/],
      ['no client certificate where the broker requires one', () => mtlsKafka({ certFile: undefined, keyFile: undefined }), right.mtls, /^certificate required/],
      ['a client certificate the broker refuses (another CA)', () => mtlsKafka({ certFile: pkiFile('stranger.pem'), keyFile: pkiFile('stranger.key') }), right.mtls, /^certificate required/],
    ])('%s', async (_name, wrong, fixed, cause) => {
      const prefix = newPrefix()
      await grant('User:bridge', prefix, LEAST)
      await grant('User:bridge-mtls', prefix, LEAST)
      const spool = { dir: join(tmpdir(), `bridge-it-spool-${randomUUID().slice(0, 8)}`) }
      const bridge = await start(wrong(prefix), prefix, { spool }, { waitForKafka: false })
      expect((await sendRoom(bridge, 1)).status).toBe(202)
      await expect.poll(async () => (await readyz(bridge)).kafkaRefusal, { timeout: 30_000, interval: 250 }).toMatch(cause)
      expect(await readyz(bridge)).toMatchObject({ kafka: 'unreachable', spool: { entries: 1 } })
      // The operator fixes the setting and restarts on the same spool: the event is delivered.
      await bridges.splice(bridges.indexOf(bridge), 1)[0]!.close()
      const restarted = await start(fixed(), prefix, { spool })
      await expect.poll(async () => (await readyz(restarted)).spool.entries, { timeout: 60_000, interval: 250 }).toBe(0)
      expect((await readyz(restarted)).kafkaRefusal).toBeUndefined()
      expect(await metric(restarted.url, 'bridge_replayed_total{kind="spool"}')).toBe(1)
    })
  })
})

/** The topics a DV2000 source plans (every category, and the dead letters). */
const DV2000_TOPICS = ['dv2000.general', 'dv2000.telephony', 'dv2000.system', 'dv2000.hospitality', 'dv2000.other', 'bridge.deadletter']
/** A topic or prefix inside a RegExp: its dots are dots. */
const literally = (text: string): string => text.replace(/\./g, '\\.')
const newSpool = (): { dir: string } => ({ dir: join(tmpdir(), `bridge-it-spool-${randomUUID().slice(0, 8)}`) })

/** A config file's content for the command line: the same connection settings the bridge ran with. */
const cliConfig = (kafka: Record<string, unknown>, prefix: string, spool: { dir: string }, sources: unknown[] = SOURCES): Record<string, unknown> => ({
  // Consumer groups of this test's own, for ACLs that no other test (nor a later run on the same broker) shares.
  kafka: { readerGroupPrefix: `${prefix}reader-`, ...kafka },
  schemaRegistry: { url: inject('schemaRegistryUrl') },
  topicPrefix: prefix,
  spool,
  sources,
  log: { level: 'warn' },
})

describe('every command, with the connection settings serve uses and exactly the ACLs it needs', () => {
  it('tail and deadletter replay read over SASL_SSL with READ on the topics and READ on the consumer groups of kafka.readerGroupPrefix', async () => {
    const prefix = newPrefix()
    await grant('User:bridge', prefix, [...LEAST, Operation.READ])
    await grantGroups('User:bridge', `${prefix}reader-`, [Operation.READ])
    const lobby = (type: string) => ({ id: 'lobby', type, secrets: [STREAM_SECRET] })
    const spool = newSpool()
    const bridge = await start(saslKafka(), prefix, { sources: [...SOURCES, lobby('servio')], spool })
    let sent = 0
    await expect.poll(async () => (sent++, (await sendRoom(bridge, 0)).status), { timeout: 60_000, interval: 500 }).toBe(200)
    // A DV2000 system posting to a source set up as Servio by mistake: refused, kept as a dead letter.
    const wrongType = await post(`${bridge.url}/v1/servio/lobby?token=${STREAM_SECRET}`, event('room-9', 9))
    expect(wrongType.status).toBe(400)
    await bridges.splice(bridges.indexOf(bridge), 1)[0]!.close()

    const tailed = await runCli(['tail', 'dv2000.hospitality', '--from-beginning', '--max', String(sent), '--timeout', '60'], cliConfig(saslKafka(), prefix, spool))
    // Nothing on stderr but kafkajs's notice of a consumer restarted after an error it retries (on a fresh broker the
    // first group ever makes Kafka create __consumer_offsets, and the coordinator is briefly unavailable).
    expect(tailed.stderr.split('\n').filter((line) => line !== '' && !line.includes('"msg":"Restarting the consumer in '))).toEqual([])
    expect(tailed.code).toBe(0)
    const lines = tailed.stdout.trim().split('\n').map((line) => JSON.parse(line) as { key: string; value: { message: { guestid: string } } })
    expect(lines.map((l) => [l.key, l.value.message.guestid])).toEqual(Array(sent).fill(['room-0', '0']))

    // The operator's fix: lobby is a DV2000 source. Replayed through the same settings.
    const replayed = await runCli(['deadletter', 'replay', '--source', 'lobby'], cliConfig(saslKafka(), prefix, spool, [...SOURCES, lobby('dv2000')]))
    expect(replayed.stdout).toContain(`replayed ${String(wrongType.json['event_id'])} -> ${prefix}dv2000.hospitality (1 record)\n`)
    expect(replayed.code).toBe(0)
  })

  it('spool rejected --replay produces over mutual TLS: a record Kafka refused for good, replayed once the topic takes it', async () => {
    const prefix = newPrefix()
    await grant('User:bridge-mtls', prefix, LEAST)
    // The operator's topic takes records of 4 KiB at most.
    const hospitality = `${prefix}dv2000.hospitality`
    await asAdmin((admin) => admin.createTopics({ waitForLeaders: true, topics: [{ topic: hospitality, numPartitions: 1, configEntries: [{ name: 'max.message.bytes', value: '4096' }] }] }))
    const spool = newSpool()
    // Spooled while the certificate is wrong, then replayed with the right one: refused for good, set aside.
    const refused = await start(mtlsKafka({ certFile: undefined, keyFile: undefined }), prefix, { spool }, { waitForKafka: false })
    expect((await sendRoom(refused, 1, 6_000)).status).toBe(202)
    await bridges.splice(bridges.indexOf(refused), 1)[0]!.close()
    const bridge = await start(mtlsKafka(), prefix, { spool })
    await expect.poll(async () => (await runCli(['spool', 'rejected', '--json'], cliConfig(mtlsKafka(), prefix, spool))).stdout, { timeout: 60_000, interval: 1_000 }).toMatch(/MESSAGE_TOO_LARGE/)
    await bridges.splice(bridges.indexOf(bridge), 1)[0]!.close()

    await asAdmin((admin) => admin.alterConfigs({ validateOnly: false, resources: [{ type: 2, name: hospitality, configEntries: [{ name: 'max.message.bytes', value: '1048588' }] }] }))
    // Run as a principal that may see the topic but not write it: refused for that, the file kept.
    await grant('User:bridge', prefix, [Operation.DESCRIBE])
    await expect
      .poll(async () => runCli(['spool', 'rejected', '--replay'], cliConfig(saslKafka(), prefix, spool)), { timeout: 60_000, interval: 500 })
      .toMatchObject({ code: 1, stdout: expect.stringMatching(/^still refused .*\.frames: Kafka denied producing 1 record\(s\) \(TOPIC_AUTHORIZATION_FAILED\): the bridge's principal needs WRITE on the topic\n/) })
    const replay = await runCli(['spool', 'rejected', '--replay'], cliConfig(mtlsKafka(), prefix, spool))
    expect(replay.stdout).toMatch(/^replayed .*\.frames \(1 record\)\n1 file: 1 replayed \(1 record\), 0 still refused\n$/)
    expect(replay.code).toBe(0)
  })

  it('with topics.create off, a principal without CREATE: never asked to create; a missing topic is held as missing, not as denied', async () => {
    const prefix = newPrefix()
    await grant('User:bridge', prefix, [Operation.WRITE, Operation.DESCRIBE])
    const missing = `${prefix}dv2000.general`
    await asAdmin((admin) => admin.createTopics({ waitForLeaders: true, topics: DV2000_TOPICS.map((t) => `${prefix}${t}`).filter((t) => t !== missing).map((topic) => ({ topic, numPartitions: 1 })) }))
    const bridge = await start(saslKafka(), prefix, { topics: { create: false } })
    await expect.poll(async () => (await sendRoom(bridge, 0)).status, { timeout: 60_000, interval: 500 }).toBe(200)
    const held = async () => ((await (await fetch(`${bridge.url}/readyz`)).json()) as { held: { topic: string; reason: string }[] }).held.map((h) => [h.topic, h.reason])
    await expect.poll(held, { timeout: 60_000, interval: 250 }).toEqual([[missing, 'topic_missing']])
    expect((await sendRoom(bridge, 1)).status).toBe(200)
  })

  describe('a missing ACL stops a reading command with one line naming it (exit 1), never a hang', () => {
    const run = (command: string[], prefix: string) => runCli(command, cliConfig(mtlsKafka(), prefix, newSpool()))
    it.each([
      ['tail', ['tail', 'dv2000.hospitality', '--from-beginning', '--timeout', '120']],
      ['deadletter replay', ['deadletter', 'replay']],
    ])('%s: READ on the consumer groups, then READ on the topic', async (_name, command) => {
      const prefix = newPrefix()
      await grant('User:bridge-mtls', prefix, LEAST)
      await asAdmin((admin) => admin.createTopics({ waitForLeaders: true, topics: DV2000_TOPICS.map((t) => ({ topic: `${prefix}${t}`, numPartitions: 1 })) }))
      const topic = command[0] === 'tail' ? `${prefix}dv2000.hospitality` : `${prefix}bridge.deadletter`
      if (command[0] === 'deadletter') {
        // Something to read: a dead letter, written by a bridge of this principal.
        const bridge = await start(mtlsKafka(), prefix)
        expect((await post(`${bridge.url}/v1/dv2000/front-desk?token=${STREAM_SECRET}`, 'not json')).status).toBe(400)
        await expect.poll(() => metric(bridge.url, `bridge_records_produced_total{topic="${topic}"}`), { timeout: 60_000, interval: 250 }).toBe(1)
      }
      // kafkajs asks for the group's coordinator first: the group's ACL is the first one a reader meets.
      const noGroup = await run(command, prefix)
      expect(noGroup.code).toBe(1)
      expect(noGroup.stderr).toMatch(
        new RegExp(`^hotel-kafka-bridge: Kafka refused consumer group ${literally(prefix)}reader-\\S+ \\(reading ${literally(topic)}\\): the principal needs READ on the consumer groups whose names start with "${literally(prefix)}reader-" \\(kafka\\.readerGroupPrefix\\)(, unless the cluster has no group coordinator up)?\\n$`),
      )
      await grantGroups('User:bridge-mtls', `${prefix}reader-`, [Operation.READ])
      // The new ACL reaches the broker within moments: until then the group's refusal is what is told.
      await expect
        .poll(async () => run(command, prefix), { timeout: 60_000, interval: 500 })
        .toMatchObject({ code: 1, stderr: `hotel-kafka-bridge: Kafka denied reading ${topic} (TOPIC_AUTHORIZATION_FAILED): the bridge's principal needs READ on the topic\n` })
    })
  })
})
