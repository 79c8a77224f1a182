// The image as users run it: `docker run` with a config file and BRIDGE_* variables only, host networking, against the
// local stack's real Kafka and registry. Non-root, healthy, takes an event; spools through a Kafka outage on its volume,
// survives SIGKILL (a new container on the volume delivers); drains and exits 0 on `docker stop`.
import { execFile } from 'node:child_process'
import { chownSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { randomUUID } from 'node:crypto'
import { GenericContainer, Wait, type StartedTestContainer } from 'testcontainers'
import { afterEach, describe, expect, inject, it } from 'vitest'
import { freePort, waitDelivering } from '../integration/support/child-bridge.js'
import { consume, post } from '../integration/support/kafka.js'
import { stackAsync } from '../integration/support/stack.js'
import { acknowledged, consumeIds, expectAllPresent, expectOrderPerKey, send, STREAM_SECRET, type Sent } from '../integration/support/stream.js'

const docker = async (...args: string[]): Promise<string> => (await promisify(execFile)('docker', args)).stdout.trim()

/** Every container a test started, removed by the test itself (no reaper here). */
const started: string[] = []
afterEach(async () => {
  for (const id of started.splice(0)) await docker('rm', '-f', '-v', id).catch(() => undefined)
})

interface Deployment {
  prefix: string
  /** Host folder mounted as the image's volume /var/lib/bridge, owned by the image's node user (uid 1000). */
  volume: string
  configFile: string
  port: number
}

/** A config file as an operator writes one; the secret and the port come from BRIDGE_* variables. */
async function deployment(): Promise<Deployment> {
  const dir = mkdtempSync(join(tmpdir(), 'bridge-container-'))
  const volume = join(dir, 'volume')
  const prefix = `ct-${randomUUID().slice(0, 8)}.`
  const configFile = join(dir, 'config.yaml')
  writeFileSync(
    configFile,
    [
      `kafka: { brokers: ["${inject('kafkaBrokers')}"], ackTimeoutMs: 1500, probeIntervalMs: 1000 }`,
      `schemaRegistry: { url: "${inject('schemaRegistryUrl')}" }`,
      `topicPrefix: "${prefix}"`,
      'topics: { partitions: 3 }',
      'sources:',
      '  - { id: front-desk, type: dv2000 }',
      '',
    ].join('\n'),
  )
  mkdirSync(volume)
  chownSync(volume, 1000, 1000)
  return { prefix, volume, configFile, port: await freePort() }
}

async function run(d: Deployment): Promise<{ container: StartedTestContainer; url: string; startupMs: number }> {
  const begun = performance.now()
  const container = await new GenericContainer(inject('bridgeImage'))
    .withNetworkMode('host')
    .withEnvironment({ BRIDGE_HTTP_PORT: String(d.port), BRIDGE_SOURCES_FRONT_DESK_SECRETS: STREAM_SECRET })
    .withBindMounts([
      { source: d.configFile, target: '/etc/hotel-kafka-bridge/config.yaml', mode: 'ro' },
      { source: d.volume, target: '/var/lib/bridge', mode: 'rw' },
    ])
    .withWaitStrategy(Wait.forHealthCheck())
    .withStartupTimeout(120_000)
    .start()
  started.push(container.getId())
  return { container, url: `http://127.0.0.1:${d.port}`, startupMs: performance.now() - begun }
}

describe('the container image', () => {
  it('runs as the non-root node user, turns healthy, and takes an event onto Kafka, decoded through the registry', async () => {
    const d = await deployment()
    const { container, url, startupMs } = await run(d)
    const size = Number(await docker('image', 'inspect', '-f', '{{.Size}}', inject('bridgeImage')))
    console.log(`image ${inject('bridgeImage')}: ${(size / 1e6).toFixed(0)} MB; started and healthy in ${(startupMs / 1000).toFixed(1)} s`)
    expect(await docker('inspect', '-f', '{{.Config.User}} {{.State.Health.Status}}', container.getId())).toBe('node healthy')
    expect((await container.exec(['id', '-u'])).output.trim()).toBe('1000')
    expect((await container.exec(['node', '--version'])).output.trim()).toMatch(/^v24\./)

    await waitDelivering(url, 'kafka', 120_000)
    const answer = await post(`${url}/v1/dv2000/front-desk?token=${STREAM_SECRET}`, '{"category":3,"event":9,"service_id":1064,"service_name":"Visitant","date":"2023/09/13","time":"08:07:46","timestamp":"2023-09-13T08:07:46-07:00","message":{"room":"100-101","guestname":"Ada"}}', {
      connection: 'close',
      'user-agent': 'DuVoice/8.0.20',
    })
    expect(answer.status).toBe(200)
    const [record] = await consume(`${d.prefix}dv2000.hospitality`, (r) => r.length >= 1)
    expect(record!.key).toBe('100-101')
    expect(record!.value).toMatchObject({ event_id: answer.json['event_id'], event_name: 'room_check_in', user_agent: 'DuVoice/8.0.20', source: 'front-desk' })
  })

  it('spools (202) on its volume with Kafka killed; after a SIGKILL a new container on that volume delivers every event', async () => {
    const d = await deployment()
    const first = await run(d)
    await waitDelivering(first.url, 'kafka', 120_000)
    const sent: Sent[] = []
    for (let seq = 1; seq <= 10; seq++) sent.push(await send(first.url, `room-${seq % 3}`, seq))
    await stackAsync('kill9', 'kafka')
    try {
      for (let seq = 11; seq <= 60; seq++) sent.push(await send(first.url, `room-${seq % 3}`, seq))
      expect(sent.slice(10).filter((x) => x.status === 202).length).toBeGreaterThanOrEqual(40)
      expect(sent.every((x) => x.status === 200 || x.status === 202)).toBe(true)
      await docker('kill', '--signal', 'KILL', first.container.getId())
      expect(await docker('inspect', '-f', '{{.State.Running}}', first.container.getId())).toBe('false')
    } finally {
      await stackAsync('up', 'kafka')
    }
    const second = await run(d)
    await waitDelivering(second.url, 'kafka', 120_000)
    const ids = acknowledged(sent)
    const records = await consumeIds(d.prefix, ids)
    expectAllPresent(records, ids)
    expectOrderPerKey(records)
  })

  it('drains and exits 0 on docker stop (SIGTERM), within the stop timeout', async () => {
    const d = await deployment()
    const { container, url } = await run(d)
    await waitDelivering(url, 'kafka', 120_000)
    const sent = await Promise.all(Array.from({ length: 20 }, (_, i) => send(url, `room-${i % 4}`, i + 1)))
    expect(sent.every((x) => x.status === 200)).toBe(true)
    const begun = performance.now()
    await docker('stop', '-t', '40', container.getId())
    const stopMs = performance.now() - begun
    expect(await docker('inspect', '-f', '{{.State.ExitCode}} {{.State.OOMKilled}}', container.getId())).toBe('0 false')
    console.log(`docker stop: exited 0 in ${(stopMs / 1000).toFixed(1)} s`)
    const logs = (await promisify(execFile)('docker', ['logs', container.getId()])).stdout
    expect(logs).toContain('stopped cleanly')
    const ids = acknowledged(sent)
    expectAllPresent(await consumeIds(d.prefix, ids), ids)
  })
})
