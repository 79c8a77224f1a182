// Production Kafka as companies run it, against the stack's secured broker: TLS with a private CA, SASL SCRAM, mutual TLS,
// and a principal that has exactly the ACLs it needs (granted per test on its own topic prefix) and nothing more.
import { randomUUID } from 'node:crypto'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { startBridge, testConfig, type RunningBridge } from './support/bridge.js'
import { post } from './support/kafka.js'
import { grant, mtlsKafka, Operation, pkiFile, saslKafka } from './support/secure-kafka.js'
import { event, metric, STREAM_SECRET } from './support/stream.js'

const bridges: RunningBridge[] = []
afterEach(async () => {
  await Promise.all(bridges.splice(0).map((b) => b.close()))
})

const newPrefix = (): string => `sec-${randomUUID().slice(0, 8)}.`
const SOURCES = [{ id: 'front-desk', type: 'dv2000', secrets: [STREAM_SECRET] }]

async function start(kafka: Record<string, unknown>, prefix: string, extra: Record<string, unknown> = {}, options: { waitForKafka?: boolean } = {}): Promise<RunningBridge> {
  const bridge = await startBridge(testConfig({ kafka, topicPrefix: prefix, sources: SOURCES, ...extra }), options)
  bridges.push(bridge)
  return bridge
}

const sendRoom = (bridge: RunningBridge, seq: number) => post(`${bridge.url}/v1/dv2000/front-desk?token=${STREAM_SECRET}`, event(`room-${seq}`, seq))
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
