// A sender added without touching src/: this folder's component, registered through a registry, is configured,
// validated, routed over HTTP, produced to Kafka with its own schema, and dead-lettered, like the built-in ones.
import { randomUUID } from 'node:crypto'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { buildApp, type App } from '../../../src/app.js'
import { loadConfig, validateConfig } from '../../../src/config/load.js'
import { createLogger } from '../../../src/observability/logger.js'
import { builtInSources, createSourceRegistry } from '../../../src/sources/index.js'
import { consume, post } from '../support/kafka.js'
import { pbxSource } from './index.js'

const registry = createSourceRegistry([...builtInSources.components, pbxSource])
const SECRET = 'pbx-secret-123'
const prefix = `pbx-${randomUUID().slice(0, 8)}.`

function rawConfig(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    http: { host: '127.0.0.1', port: 0 },
    kafka: { brokers: [inject('kafkaBrokers')] },
    schemaRegistry: { url: inject('schemaRegistryUrl') },
    topicPrefix: prefix,
    spool: { dir: join(tmpdir(), `bridge-pbx-${randomUUID().slice(0, 8)}`) },
    log: { level: 'silent' },
    sources: [
      { id: 'switch', type: 'pbx', secrets: [SECRET], extensions: ['1204', '1205'] },
      { id: 'front-desk', type: 'dv2000', secrets: [SECRET] },
    ],
    ...extra,
  }
}

describe('a third sender from its own folder', () => {
  let app: App
  let url: string

  beforeAll(async () => {
    app = buildApp(validateConfig(rawConfig(), 'config', [], registry), { logger: createLogger('silent'), sources: registry })
    await app.start()
    await app.kafkaPrepared()
    await app.http.listen({ host: '127.0.0.1', port: 0 })
    url = `http://127.0.0.1:${(app.http.server.address() as { port: number }).port}`
  })
  afterAll(async () => {
    await app?.close()
  })

  it('is validated in config by its own options, and its keys are BRIDGE_SOURCES_* variables like any sender\'s', () => {
    expect(() => validateConfig(rawConfig({ sources: [{ id: 'switch', type: 'pbx', secrets: [SECRET], extensions: ['12a'] }] }), 'config', [], registry)).toThrow(
      /sources\[0\]\.extensions\[0\]/,
    )
    // Without the plug-in in the registry the type is unknown, as any unregistered sender's.
    expect(() => validateConfig(rawConfig())).toThrow(/sources\[0\]\.type/)
    const file = join(mkdtempSync(join(tmpdir(), 'bridge-pbx-config-')), 'bridge.yaml')
    writeFileSync(file, JSON.stringify({ sources: [{ id: 'switch', type: 'pbx', secrets: [SECRET] }] }))
    const { config, overrides } = loadConfig(file, { BRIDGE_SOURCES_SWITCH_EXTENSIONS: '1300,1301' }, registry)
    expect(config.sources[0]).toMatchObject({ type: 'pbx', id: 'switch', extensions: ['1300', '1301'] })
    expect(overrides.map((o) => o.variable)).toEqual(['BRIDGE_SOURCES_SWITCH_EXTENSIONS'])
  })

  it('is reachable at /v1/pbx/{source}, produces with its own schema and key, filters, and dead-letters what it refuses', async () => {
    const ingest = `${url}/v1/pbx/switch?token=${SECRET}`
    const produced = await post(ingest, '{"call_id":"c-1","extension":"1204","direction":"in","duration":42}')
    expect(produced.status).toBe(200)
    expect(produced.json).toMatchObject({ status: 'produced', records: 1 })
    const filtered = await post(ingest, '{"call_id":"c-2","extension":"1999","direction":"out"}')
    expect(filtered.json).toMatchObject({ status: 'filtered' })
    const refused = await post(ingest, '{"call_id":"c-3","extension":"1204","direction":"sideways"}')
    expect(refused.status).toBe(400)
    expect(refused.json).toMatchObject({ status: 'rejected', dead_letter: 'delivered' })
    // The built-in senders are still there, in the same app.
    expect((await post(`${url}/v1/dv2000/front-desk?token=${SECRET}`, '{"category":3,"date":"d","event":12,"message":{"room":"7"},"service_id":1,"service_name":"x","time":"t","timestamp":"x"}')).status).toBe(200)
    expect((await post(`${url}/v1/pbx/front-desk?token=${SECRET}`, '{}')).status).toBe(404)

    const calls = await consume(`${prefix}pbx.calls`, (r) => r.length >= 1)
    expect(calls).toHaveLength(1)
    expect(calls[0]!.key).toBe('1204')
    expect(calls[0]!.headers['event_id']).toBe(produced.json['event_id'])
    expect(calls[0]!.value).toMatchObject({ call_id: 'c-1', extension: '1204', direction: 'in', duration_seconds: 42, source: 'switch' })

    const dead = await consume(`${prefix}bridge.deadletter`, (r) => r.some((x) => x.headers['event_id'] === refused.json['event_id']))
    const letter = dead.find((x) => x.headers['event_id'] === refused.json['event_id'])!
    expect(letter.key).toBe('switch')
    expect(letter.value).toMatchObject({ source: 'switch', source_type: 'pbx' })
    expect((letter.value['body'] as Buffer).toString()).toBe('{"call_id":"c-3","extension":"1204","direction":"sideways"}')
    expect(String(letter.value['reason'])).toMatch(/not a PBX call record/)
  })
})
