// Schema evolution against the real registry and broker: the schemas CLI, v1 → v2 both ways, a second registry,
// a slow one, a refusing one, and one behind TLS with a private CA and Basic auth.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import avsc from 'avsc'
import { afterAll, afterEach, describe, expect, inject, it } from 'vitest'
import { buildApp, type App } from '../../src/app.js'
import { validateConfig } from '../../src/config/load.js'
import { createLogger } from '../../src/observability/logger.js'
import { dv2000Source } from '../../src/sources/dv2000/index.js'
import { builtInSources, createSourceRegistry, type SourceRegistry } from '../../src/sources/index.js'
import { freePort } from './support/child-bridge.js'
import { runCli } from './support/cli.js'
import { consume, post } from './support/kafka.js'
import { startRegistryProxy, type RegistryProxy } from './support/registry-proxy.js'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const SECRET = 'schemas-secret-1'
const EVENT = '{"category":3,"date":"2023/09/13","event":12,"message":{"room":"100-101"},"service_id":1064,"service_name":"Visitant","time":"08:07:46","timestamp":"2023-09-13T08:07:46-07:00"}'
const registryUrl = (): string => inject('schemaRegistryUrl')
const apps: App[] = []
const proxies: RegistryProxy[] = []
const children: ChildProcess[] = []

afterEach(async () => {
  for (const app of apps.splice(0)) await app.close()
  for (const proxy of proxies.splice(0)) await proxy.close()
})
afterAll(async () => {
  for (const child of children.splice(0)) {
    child.kill('SIGKILL')
    await new Promise((resolve) => child.once('exit', resolve))
  }
})

function rawConfig(prefix: string, spool: string, registry: Record<string, unknown> = {}, kafka: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    http: { host: '127.0.0.1', port: 0 },
    kafka: { brokers: [inject('kafkaBrokers')], ...kafka },
    schemaRegistry: { url: registryUrl(), ...registry },
    topicPrefix: prefix,
    spool: { dir: spool },
    log: { level: 'silent' },
    sources: [{ id: 'front-desk', type: 'dv2000', secrets: [SECRET], categories: [3] }],
  }
}

async function start(raw: Record<string, unknown>, sources: SourceRegistry = builtInSources): Promise<{ app: App; url: string }> {
  const app = buildApp(validateConfig(raw), { logger: createLogger('silent'), sources })
  apps.push(app)
  await app.start()
  await app.kafkaPrepared()
  await app.http.listen({ host: '127.0.0.1', port: 0 })
  return { app, url: `http://127.0.0.1:${(app.http.server.address() as { port: number }).port}` }
}

async function stop(app: App): Promise<void> {
  apps.splice(apps.indexOf(app), 1)
  await app.close()
}

const send = (url: string, headers: Record<string, string> = {}) => post(`${url}/v1/dv2000/front-desk?token=${SECRET}`, EVENT, headers)

/** A copy of the package's schemas/ with dv2000_event changed by `edit`. */
function schemasCopy(edit: (schema: { fields: { name: string }[] }) => void): string {
  const dir = mkdtempSync(join(tmpdir(), 'bridge-schemas-copy-'))
  for (const file of readdirSync(join(ROOT, 'schemas')).filter((f) => f.endsWith('.avsc'))) copyFileSync(join(ROOT, 'schemas', file), join(dir, file))
  const schema = JSON.parse(readFileSync(join(dir, 'dv2000_event.avsc'), 'utf8')) as { fields: { name: string }[] }
  edit(schema)
  writeFileSync(join(dir, 'dv2000_event.avsc'), JSON.stringify(schema))
  return dir
}

/** A consumer's decoding: the writer schema fetched by the record's id from `registry`, read with `reader`. */
async function decode(raw: Buffer, reader: unknown, registry = registryUrl()): Promise<Record<string, unknown>> {
  expect(raw[0]).toBe(0)
  const answer = (await (await fetch(`${registry}/schemas/ids/${raw.readInt32BE(1)}`)).json()) as { schema: string }
  const writer = avsc.Type.forSchema(JSON.parse(answer.schema) as avsc.Schema)
  const readerType = avsc.Type.forSchema(reader as avsc.Schema)
  return readerType.fromBuffer(raw.subarray(5), readerType.createResolver(writer)) as Record<string, unknown>
}

const history = (version: number): unknown => JSON.parse(readFileSync(join(ROOT, `schemas/history/dv2000_event/v${version}.avsc`), 'utf8'))
const newPrefix = (): string => `sch-${randomUUID().slice(0, 8)}.`
const newSpool = (): string => mkdtempSync(join(tmpdir(), 'bridge-schemas-spool-'))

describe('schemas CLI against the real registry', () => {
  it('register prints subject, version and id; check passes on the shipped schemas, fails naming subject and field, passes an optional field', async () => {
    const config = rawConfig(newPrefix(), newSpool())
    const subject = `${String(config['topicPrefix'])}dv2000.hospitality-value`
    const registered = await runCli(['schemas', 'register'], config)
    expect(registered.code, registered.stderr).toBe(0)
    expect(registered.stdout).toMatch(new RegExp(`^${subject.replace(/\./g, '\\.')}  version 1  id \\d+$`, 'm'))
    const listed = await runCli(['schemas', 'list', '--json'], config)
    expect(listed.code).toBe(0)
    expect(JSON.parse(listed.stdout)).toContainEqual(expect.objectContaining({ subject, latestVersion: 1, compatibility: 'FULL_TRANSITIVE', local: 'latest' }))

    const shipped = await runCli(['schemas', 'check'], config)
    expect(shipped.code, shipped.stdout + shipped.stderr).toBe(0)
    expect(shipped.stdout).toContain(`ok    ${subject}`)

    const removed = await runCli(['schemas', 'check', '--schemas', schemasCopy((s) => (s.fields = s.fields.filter((f) => f.name !== 'service_name')))], config)
    expect(removed.code).toBe(1)
    expect(removed.stdout).toContain(`FAIL  ${subject}: field service_name removed without a default`)

    const added = await runCli(['schemas', 'check', '--schemas', schemasCopy((s) => s.fields.push({ name: 'floor', type: ['null', 'int'], default: null } as { name: string }))], config)
    expect(added.code, added.stdout).toBe(0)

    // No registry at all: the published history decides; with no history to compare with, exit 2.
    const offline = await runCli(['schemas', 'check'], { ...config, schemaRegistry: { url: 'http://127.0.0.1:1/apis/ccompat/v7' } })
    expect(offline.code).toBe(0)
    expect(offline.stderr).toContain('checking against the published versions instead')
    const noHistory = mkdtempSync(join(tmpdir(), 'bridge-schemas-nohist-'))
    for (const file of readdirSync(join(ROOT, 'schemas')).filter((f) => f.endsWith('.avsc'))) copyFileSync(join(ROOT, 'schemas', file), join(noHistory, file))
    mkdirSync(join(noHistory, 'history'))
    const custom = { ...config, sources: [{ id: 'front-desk', type: 'dv2000', secrets: [SECRET] }] }
    const removedOffline = await runCli(['schemas', 'check', '--offline', '--schemas', schemasCopy((s) => (s.fields = s.fields.filter((f) => f.name !== 'service_name')))], custom)
    expect(removedOffline.code).toBe(1)
    expect(removedOffline.stdout).toContain('field service_name removed without a default (against v1')
    expect((await runCli(['schemas', 'bogus'], config)).code).toBe(2)
  })
})

describe('schema evolution in service', () => {
  it('v1 then v2 on the same subject: v2 records read with the v1 schema (old consumer), v1 records with v2 (user_agent null)', async () => {
    const prefix = newPrefix()
    const v1Sources = createSourceRegistry([{ ...dv2000Source, schemaFile: join(ROOT, 'schemas/history/dv2000_event/v1.avsc') }])
    const first = await start(rawConfig(prefix, newSpool()), v1Sources)
    const old = await send(first.url, { 'user-agent': 'DuVoice/8.0.20' })
    expect(old.status).toBe(200)
    await stop(first.app)

    const second = await start(rawConfig(prefix, newSpool()))
    const fresh = await send(second.url, { 'user-agent': 'DuVoice/8.0.21' })
    expect(fresh.status).toBe(200)
    const versions = (await (await fetch(`${registryUrl()}/subjects/${prefix}dv2000.hospitality-value/versions`)).json()) as number[]
    expect(versions).toEqual([1, 2])

    const records = await consume(`${prefix}dv2000.hospitality`, (r) => r.length >= 2, 30_000, { raw: true })
    const byId = new Map(records.map((r) => [r.headers['event_id'], r.rawValue]))
    const newReadByOld = await decode(byId.get(String(fresh.json['event_id']))!, history(1))
    expect(newReadByOld).toMatchObject({ service_name: 'Visitant', event_name: 'room_update' })
    expect('user_agent' in newReadByOld).toBe(false)
    const oldReadByNew = await decode(byId.get(String(old.json['event_id']))!, history(2))
    expect(oldReadByNew).toMatchObject({ service_name: 'Visitant', user_agent: null })
    expect(await decode(byId.get(String(fresh.json['event_id']))!, history(2))).toMatchObject({ user_agent: 'DuVoice/8.0.21' })
  })

  it('a bridge switched to a second, empty registry whose ids are taken by other schemas writes records that decode there', { timeout: 180_000 }, async () => {
    const apicurio = join(ROOT, '.stack/apicurio')
    const jar = readdirSync(apicurio).flatMap((v) => readdirSync(join(apicurio, v)).filter((f) => f.endsWith('-runner.jar')).map((f) => join(apicurio, v, f)))[0]!
    const port = await freePort()
    const second = spawn(
      'java',
      ['-Xmx256m', '-Dquarkus.http.host=127.0.0.1', `-Dquarkus.http.port=${port}`, '-Dquarkus.management.host=127.0.0.1', '-Dquarkus.management.port=0', '-Dapicurio.datasource.url=jdbc:h2:mem:second;DB_CLOSE_DELAY=-1', '-jar', jar],
      { stdio: 'ignore' },
    )
    children.push(second)
    const secondUrl = `http://127.0.0.1:${port}/apis/ccompat/v7`
    await expect.poll(async () => (await fetch(`${secondUrl}/subjects`).catch(() => undefined))?.status, { timeout: 120_000, interval: 500 }).toBe(200)
    // Other schemas take the low ids there.
    for (let i = 0; i < 12; i++) {
      const schema = JSON.stringify({ type: 'record', name: `Other${i}`, fields: [{ name: `f${i}`, type: 'string' }] })
      await fetch(`${secondUrl}/subjects/other-${i}-value/versions`, { method: 'POST', headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' }, body: JSON.stringify({ schema }) })
    }
    const prefix = newPrefix()
    const spool = newSpool()
    const onFirst = await start(rawConfig(prefix, spool))
    expect((await send(onFirst.url)).status).toBe(200)
    await stop(onFirst.app)

    // Same spool folder (its id cache holds the first registry's ids), another registry.
    const onSecond = await start(rawConfig(prefix, spool, { url: secondUrl }))
    const answer = await send(onSecond.url)
    expect(answer.status).toBe(200)
    const records = await consume(`${prefix}dv2000.hospitality`, (r) => r.some((x) => x.headers['event_id'] === answer.json['event_id']), 30_000, { raw: true })
    const raw = records.find((r) => r.headers['event_id'] === answer.json['event_id'])!.rawValue
    const decoded = await decode(raw, history(2), secondUrl)
    expect(decoded).toMatchObject({ event_id: answer.json['event_id'], service_name: 'Visitant', category_name: 'hospitality' })
    const written = (await (await fetch(`${secondUrl}/schemas/ids/${raw.readInt32BE(1)}`)).json()) as { schema: string }
    expect(JSON.parse(written.schema)).toEqual(history(2))
  })

  it('a registry slower than ackTimeoutMs: the request is answered 202 while the registry still holds it, and delivered after', async () => {
    const proxy = await startRegistryProxy(registryUrl(), { hold: true })
    proxies.push(proxy)
    const prefix = newPrefix()
    const { url } = await start(rawConfig(prefix, newSpool(), { url: proxy.url }, { ackTimeoutMs: 500 }))
    const answer = await send(url)
    // Answered although the registry has answered nothing yet.
    expect(answer.status).toBe(202)
    proxy.release()
    const records = await consume(`${prefix}dv2000.hospitality`, (r) => r.some((x) => x.headers['event_id'] === answer.json['event_id']), 60_000)
    expect(records.map((r) => r.headers['event_id'])).toContain(answer.json['event_id'])
  })

  it('a refused subject makes /readyz 503 naming it, with the metric set, while events are still accepted into the spool', async () => {
    const prefix = newPrefix()
    const subject = `${prefix}dv2000.hospitality-value`
    const headers = { 'content-type': 'application/vnd.schemaregistry.v1+json' }
    const other = JSON.stringify({ type: 'record', name: 'Unrelated', fields: [{ name: 'x', type: 'int' }] })
    await fetch(`${registryUrl()}/subjects/${subject}/versions`, { method: 'POST', headers, body: JSON.stringify({ schema: other }) })
    await fetch(`${registryUrl()}/config/${subject}`, { method: 'PUT', headers, body: JSON.stringify({ compatibility: 'FULL_TRANSITIVE' }) })
    const { url } = await start(rawConfig(prefix, newSpool()))
    await expect
      .poll(
        async () => {
          const res = await fetch(`${url}/readyz`)
          return [res.status, ((await res.json()) as { refusedSubjects?: string[] }).refusedSubjects]
        },
        { timeout: 30_000, interval: 200 },
      )
      .toEqual([503, [subject]])
    const ready = (await (await fetch(`${url}/readyz`)).json()) as { detail: string }
    expect(ready.detail).toContain('run hotel-kafka-bridge schemas check')
    expect((await send(url)).status).toBe(202)
    expect(await (await fetch(`${url}/metrics`)).text()).toContain(`bridge_schema_refused{subject="${subject}"} 1`)
  })

  it('a registry behind TLS with a private CA and Basic auth: URL credentials go as Basic auth; without the CA no request gets through (202)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bridge-registry-tls-'))
    const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' })
    ssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '1', '-subj', '/CN=bridge-test-ca')
    ssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=127.0.0.1')
    writeFileSync(join(dir, 'ext.cnf'), 'subjectAltName=IP:127.0.0.1\n')
    ssl('x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.pem', '-days', '1', '-extfile', 'ext.cnf')
    const tls = { key: readFileSync(join(dir, 'server.key')), cert: readFileSync(join(dir, 'server.pem')) }
    const proxy = await startRegistryProxy(registryUrl(), { tls, basicAuth: 'bridge:s3cret-pass' })
    proxies.push(proxy)
    const trusted = await start(rawConfig(newPrefix(), newSpool(), { url: proxy.url.replace('https://', 'https://bridge:s3cret-pass@'), caFile: join(dir, 'ca.pem') }))
    expect((await send(trusted.url)).status).toBe(200)
    expect(proxy.authorizations.length).toBeGreaterThan(0)
    expect(new Set(proxy.authorizations)).toEqual(new Set([`Basic ${Buffer.from('bridge:s3cret-pass').toString('base64')}`]))

    // Without the CA, through a proxy of its own: the handshake fails, so no request ever reaches it.
    const other = await startRegistryProxy(registryUrl(), { tls, basicAuth: 'bridge:s3cret-pass' })
    proxies.push(other)
    const untrusted = await start(rawConfig(newPrefix(), newSpool(), { url: other.url.replace('https://', 'https://bridge:s3cret-pass@') }))
    expect((await send(untrusted.url)).status).toBe(202)
    expect(other.authorizations).toEqual([])

    // A registry that demands a client certificate (mutual TLS): certFile/keyFile present one.
    ssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'client.key', '-out', 'client.csr', '-subj', '/CN=hotel-kafka-bridge')
    ssl('x509', '-req', '-in', 'client.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'client.pem', '-days', '1')
    const mutual = await startRegistryProxy(registryUrl(), { tls: { ...tls, clientCa: readFileSync(join(dir, 'ca.pem')) } })
    proxies.push(mutual)
    const withCert = await start(rawConfig(newPrefix(), newSpool(), { url: mutual.url, caFile: join(dir, 'ca.pem'), certFile: join(dir, 'client.pem'), keyFile: join(dir, 'client.key') }))
    expect((await send(withCert.url)).status).toBe(200)
    const callsWithCert = mutual.authorizations.length
    expect(callsWithCert).toBeGreaterThan(0)
    await stop(withCert.app)
    const withoutCert = await start(rawConfig(newPrefix(), newSpool(), { url: mutual.url, caFile: join(dir, 'ca.pem') }))
    expect((await send(withoutCert.url)).status).toBe(202)
  })
})
