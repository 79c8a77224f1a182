// Registry ids kept on disk beside the spool: after first use, a restart with the registry down still knows every id.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { loadIdCache, saveIdCache } from '../../../src/avro/id-cache.js'
import { createSchemaIds } from '../../../src/avro/registry.js'
import { schemaHash } from '../../../src/avro/schemas.js'
import { BridgeError, ErrorCodes } from '../../../src/errors.js'

const EVENT = '{"type":"record","name":"Event","fields":[{"name":"id","type":"string"}]}'
const CHANGE = '{"type":"record","name":"Change","fields":[{"name":"n","type":"long"}]}'

let dir: string
let registry: FakeRegistry
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hkb-ids-'))
  registry = await fakeRegistryServer()
})
afterEach(async () => {
  await registry.close()
  await rm(dir, { recursive: true, force: true })
})

type Reply = { status: number; body: unknown } | 'drop'

interface FakeRegistry {
  /** The base URL; any path prefix after it is another registry's identity on the same server. */
  url: string
  calls: () => number
  answer(handler: (method: string, path: string) => Reply): void
  close(): Promise<void>
}

/** A registry on a loopback socket whose answers a test sets; 'drop' cuts the connection, as a registry that is away. */
async function fakeRegistryServer(): Promise<FakeRegistry> {
  let handler: (method: string, path: string) => Reply = () => 'drop'
  let calls = 0
  const server = createServer((req, res) => {
    calls++
    req.resume()
    req.on('end', () => {
      const reply = handler(req.method ?? '', req.url ?? '')
      if (reply === 'drop') return void req.socket.destroy()
      res.writeHead(reply.status, { 'content-type': 'application/json' }).end(JSON.stringify(reply.body))
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    calls: () => calls,
    answer: (h) => (handler = h),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  }
}

/** The registry knows an id per subject (lookups answer 200); returns the call counter. */
function fakeRegistry(idsBySubject: Record<string, number>): () => number {
  const before = registry.calls()
  registry.answer((_method, path) => {
    const subject = decodeURIComponent(path.replace(/^.*\/subjects\//, ''))
    const id = idsBySubject[subject]
    return id === undefined ? { status: 500, body: { error_code: 50001, message: 'boom' } } : { status: 200, body: { subject, version: 1, id, schema: '' } }
  })
  return () => registry.calls() - before
}

/** The registry is away: every call's connection is cut. Returns the call counter. */
function noHttp(): () => number {
  const before = registry.calls()
  registry.answer(() => 'drop')
  return () => registry.calls() - before
}

async function fileHolds(file: string, entries: number): Promise<Record<string, number>> {
  let parsed: Record<string, number> = {}
  await vi.waitFor(
    async () => {
      parsed = JSON.parse(await readFile(file, 'utf8')) as Record<string, number>
      expect(Object.keys(parsed)).toHaveLength(entries)
    },
    { timeout: 5_000, interval: 5 },
  )
  return parsed
}

describe('schema ids cached on disk', () => {
  it('saves ids per registry; after a restart with that registry down it asks once, then uses its ids from disk', async () => {
    const cacheFile = join(dir, 'schema-ids.json')
    const asked = fakeRegistry({ 'dv2000.hospitality-value': 11, 'servio.bookings-value': 22 })
    const first = createSchemaIds({ url: registry.url, cacheFile })
    expect(first.cachedId('dv2000.hospitality-value', EVENT)).toBeUndefined()
    const [a, b, again] = await Promise.all([
      first.idFor('dv2000.hospitality-value', EVENT),
      first.idFor('servio.bookings-value', CHANGE),
      first.idFor('dv2000.hospitality-value', EVENT),
    ])
    expect([a, b, again]).toEqual([11, 22, 11])
    expect(asked()).toBe(2) // the same (subject, schema) asked once
    expect(first.cachedId('dv2000.hospitality-value', EVENT)).toBe(11)

    const onDisk = await fileHolds(cacheFile, 2)
    expect(onDisk).toEqual({
      [`${registry.url}\u0000dv2000.hospitality-value\u0000${schemaHash(EVENT)}`]: 11,
      [`${registry.url}\u0000servio.bookings-value\u0000${schemaHash(CHANGE)}`]: 22,
    })

    // Restart with the same registry down: not used unchecked, asked once (refused at once), then trusted.
    const http = noHttp()
    const second = createSchemaIds({ url: registry.url, cacheFile, timeoutMs: 2_000 })
    expect(second.cachedId('servio.bookings-value', CHANGE)).toBeUndefined()
    await expect(second.verify('servio.bookings-value', CHANGE)).resolves.toBe(22)
    await expect(second.idFor('dv2000.hospitality-value', EVENT)).resolves.toBe(11)
    expect(http()).toBe(2)
    expect(second.cachedId('servio.bookings-value', CHANGE)).toBe(22)
    expect(second.cachedId('dv2000.hospitality-value', EVENT)).toBe(11)
    await second.idFor('dv2000.hospitality-value', EVENT)
    expect(http()).toBe(2)

    // An id is per subject and per schema text: anything else still needs the registry.
    expect(second.cachedId('servio.bookings-value', EVENT)).toBeUndefined()
    const error = await second.idFor('servio.bookings-value', EVENT).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(BridgeError)
    expect((error as BridgeError).code).toBe(ErrorCodes.REGISTRY_UNAVAILABLE)
    expect((error as BridgeError).retriable).toBe(true)
  })

  it('never uses the ids of another registry: a bridge switched to a new one asks it, even while it is down', async () => {
    const cacheFile = join(dir, 'schema-ids.json')
    fakeRegistry({ 'a-value': 1 })
    await createSchemaIds({ url: `${registry.url}/old`, cacheFile }).idFor('a-value', EVENT)
    await fileHolds(cacheFile, 1)
    noHttp()
    const switched = createSchemaIds({ url: `${registry.url}/new`, cacheFile })
    await expect(switched.idFor('a-value', EVENT)).rejects.toMatchObject({ code: ErrorCodes.REGISTRY_UNAVAILABLE })
    fakeRegistry({ 'a-value': 7 })
    await expect(switched.idFor('a-value', EVENT)).resolves.toBe(7)
    // Both registries' ids are kept, each under its own URL.
    expect(Object.values(await fileHolds(cacheFile, 2)).sort()).toEqual([1, 7])
  })

  it('verifies a cached id once at start-up and replaces one the registry contradicts (a rebuilt registry), saying so', async () => {
    const cacheFile = join(dir, 'schema-ids.json')
    fakeRegistry({ 'a-value': 3 })
    await createSchemaIds({ url: registry.url, cacheFile }).idFor('a-value', EVENT)
    await fileHolds(cacheFile, 1)
    const asked = fakeRegistry({ 'a-value': 41 })
    const changes: [string, number, number][] = []
    const restarted = createSchemaIds({ url: registry.url, cacheFile, onIdChanged: (...change) => changes.push(change) })
    await expect(restarted.verify('a-value', EVENT)).resolves.toBe(41)
    expect(changes).toEqual([['a-value', 3, 41]])
    expect(restarted.cachedId('a-value', EVENT)).toBe(41)
    await restarted.idFor('a-value', EVENT)
    expect(asked()).toBe(1)
    await vi.waitFor(async () => expect(Object.values(JSON.parse(await readFile(cacheFile, 'utf8')) as Record<string, number>)).toEqual([41]), { timeout: 5_000, interval: 5 })
  })

  it('keeps the subjects the registry refuses, with its reason, until it accepts them again', async () => {
    const refusals: [string, string | undefined][] = []
    let accept = false
    registry.answer((_method, path) => {
      const lookup = !path.endsWith('/versions')
      if (accept) return { status: 200, body: { id: 9 } }
      if (lookup) return { status: 404, body: { error_code: 40401, message: 'Subject not found' } }
      return { status: 409, body: { error_code: 409, message: 'Schema being registered is incompatible with an earlier schema' } }
    })
    const ids = createSchemaIds({ url: registry.url, onRefused: (subject, reason) => refusals.push([subject, reason]) })
    await expect(ids.idFor('a-value', EVENT)).rejects.toMatchObject({ code: ErrorCodes.REGISTRY_REJECTED })
    expect([...ids.refused.keys()]).toEqual(['a-value'])
    expect(ids.refused.get('a-value')).toMatch(/HTTP 409 Schema being registered is incompatible/)
    accept = true
    await expect(ids.idFor('a-value', EVENT)).resolves.toBe(9)
    expect(ids.refused.size).toBe(0)
    expect(refusals.map(([subject, reason]) => [subject, reason === undefined])).toEqual([
      ['a-value', false],
      ['a-value', true],
    ])
  })

  it('starts empty, without throwing, from a missing, unreadable or odd cache file', async () => {
    noHttp()
    for (const content of [undefined, '', '{"truncated": ', 'null', '"text"', `{"${registry.url}\\u0000a\\u0000${schemaHash(EVENT)}": "7", "${registry.url}\\u0000b\\u0000${schemaHash(EVENT)}": 8}`]) {
      const cacheFile = join(dir, `ids-${Math.random()}.json`)
      if (content !== undefined) await writeFile(cacheFile, content)
      const ids = createSchemaIds({ url: registry.url, cacheFile })
      await expect(ids.idFor('a', EVENT), `content ${String(content)}`).rejects.toMatchObject({ code: ErrorCodes.REGISTRY_UNAVAILABLE })
      // only numbers are ids
      if (content?.includes('b\\u0000')) await expect(ids.idFor('b', EVENT)).resolves.toBe(8)
    }
  })

  it('reports a failed save through onCacheError and still answers the id', async () => {
    const cacheFile = join(dir, 'no-such-folder', 'schema-ids.json')
    fakeRegistry({ 'a-value': 5 })
    const errors: unknown[] = []
    const ids = createSchemaIds({ url: registry.url, cacheFile, onCacheError: (e) => errors.push(e) })
    await expect(ids.idFor('a-value', EVENT)).resolves.toBe(5)
    await vi.waitFor(() => expect(errors).toHaveLength(1))
    expect((errors[0] as NodeJS.ErrnoException).code).toBe('ENOENT')
  })

  it('saveIdCache / loadIdCache round-trip a map, replacing the file whole', async () => {
    const cacheFile = join(dir, 'ids.json')
    expect(loadIdCache(cacheFile).size).toBe(0)
    await saveIdCache(cacheFile, new Map([['s\u0000h1', 1], ['s\u0000h2', 2]]))
    expect([...loadIdCache(cacheFile)]).toEqual([['s\u0000h1', 1], ['s\u0000h2', 2]])
    await saveIdCache(cacheFile, new Map([['s\u0000h3', 3]]))
    expect([...loadIdCache(cacheFile)]).toEqual([['s\u0000h3', 3]])
  })
})
