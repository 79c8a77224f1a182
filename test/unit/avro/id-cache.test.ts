// Registry ids kept on disk beside the spool: after first use, a restart with the registry down still knows every id.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { loadIdCache, saveIdCache } from '../../../src/avro/id-cache.js'
import { createSchemaIds } from '../../../src/avro/registry.js'
import { schemaHash } from '../../../src/avro/schemas.js'
import { BridgeError, ErrorCodes } from '../../../src/errors.js'

const EVENT = '{"type":"record","name":"Event","fields":[{"name":"id","type":"string"}]}'
const CHANGE = '{"type":"record","name":"Change","fields":[{"name":"n","type":"long"}]}'
const UNREACHABLE = 'http://127.0.0.1:1'

let dir: string
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hkb-ids-'))
})
afterEach(async () => {
  vi.unstubAllGlobals()
  await rm(dir, { recursive: true, force: true })
})

/** A registry that knows an id per subject (lookup answers 200), counting the calls made to it. */
function fakeRegistry(idsBySubject: Record<string, number>) {
  const fetch = vi.fn(async (url: string | URL | Request, _init?: RequestInit): Promise<Response> => {
    const subject = decodeURIComponent(String(url).replace(/^.*\/subjects\//, ''))
    const id = idsBySubject[subject]
    if (id === undefined) return new Response(JSON.stringify({ error_code: 50001, message: 'boom' }), { status: 500 })
    return new Response(JSON.stringify({ subject, version: 1, id, schema: '' }), { status: 200 })
  })
  vi.stubGlobal('fetch', fetch)
  return fetch
}

/** Any HTTP at all fails the test: the registry is down and must not be needed. */
function noHttp() {
  const fetch = vi.fn(async (): Promise<Response> => {
    throw new TypeError('fetch failed: connect ECONNREFUSED 127.0.0.1:1')
  })
  vi.stubGlobal('fetch', fetch)
  return fetch
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
    const registry = fakeRegistry({ 'dv2000.hospitality-value': 11, 'servio.bookings-value': 22 })
    const first = createSchemaIds({ url: 'http://registry.test', cacheFile })
    expect(first.cachedId('dv2000.hospitality-value', EVENT)).toBeUndefined()
    const [a, b, again] = await Promise.all([
      first.idFor('dv2000.hospitality-value', EVENT),
      first.idFor('servio.bookings-value', CHANGE),
      first.idFor('dv2000.hospitality-value', EVENT),
    ])
    expect([a, b, again]).toEqual([11, 22, 11])
    expect(registry).toHaveBeenCalledTimes(2) // the same (subject, schema) asked once
    expect(first.cachedId('dv2000.hospitality-value', EVENT)).toBe(11)

    const onDisk = await fileHolds(cacheFile, 2)
    expect(onDisk).toEqual({
      [`http://registry.test\u0000dv2000.hospitality-value\u0000${schemaHash(EVENT)}`]: 11,
      [`http://registry.test\u0000servio.bookings-value\u0000${schemaHash(CHANGE)}`]: 22,
    })

    // Restart with the same registry down: not used unchecked, asked once (refused at once), then trusted.
    const http = noHttp()
    const second = createSchemaIds({ url: 'http://registry.test', cacheFile, timeoutMs: 200 })
    expect(second.cachedId('servio.bookings-value', CHANGE)).toBeUndefined()
    await expect(second.verify('servio.bookings-value', CHANGE)).resolves.toBe(22)
    await expect(second.idFor('dv2000.hospitality-value', EVENT)).resolves.toBe(11)
    expect(http).toHaveBeenCalledTimes(2)
    expect(second.cachedId('servio.bookings-value', CHANGE)).toBe(22)
    expect(second.cachedId('dv2000.hospitality-value', EVENT)).toBe(11)
    await second.idFor('dv2000.hospitality-value', EVENT)
    expect(http).toHaveBeenCalledTimes(2)

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
    await createSchemaIds({ url: 'http://old-registry.test', cacheFile }).idFor('a-value', EVENT)
    await fileHolds(cacheFile, 1)
    noHttp()
    const switched = createSchemaIds({ url: 'http://new-registry.test', cacheFile })
    await expect(switched.idFor('a-value', EVENT)).rejects.toMatchObject({ code: ErrorCodes.REGISTRY_UNAVAILABLE })
    fakeRegistry({ 'a-value': 7 })
    await expect(switched.idFor('a-value', EVENT)).resolves.toBe(7)
    // Both registries' ids are kept, each under its own URL.
    expect(Object.values(await fileHolds(cacheFile, 2)).sort()).toEqual([1, 7])
  })

  it('verifies a cached id once at start-up and replaces one the registry contradicts (a rebuilt registry), saying so', async () => {
    const cacheFile = join(dir, 'schema-ids.json')
    fakeRegistry({ 'a-value': 3 })
    await createSchemaIds({ url: 'http://registry.test', cacheFile }).idFor('a-value', EVENT)
    await fileHolds(cacheFile, 1)
    const registry = fakeRegistry({ 'a-value': 41 })
    const changes: [string, number, number][] = []
    const restarted = createSchemaIds({ url: 'http://registry.test', cacheFile, onIdChanged: (...change) => changes.push(change) })
    await expect(restarted.verify('a-value', EVENT)).resolves.toBe(41)
    expect(changes).toEqual([['a-value', 3, 41]])
    expect(restarted.cachedId('a-value', EVENT)).toBe(41)
    await restarted.idFor('a-value', EVENT)
    expect(registry).toHaveBeenCalledTimes(1)
    await vi.waitFor(async () => expect(Object.values(JSON.parse(await readFile(cacheFile, 'utf8')) as Record<string, number>)).toEqual([41]), { timeout: 5_000, interval: 5 })
  })

  it('keeps the subjects the registry refuses, with its reason, until it accepts them again', async () => {
    const refusals: [string, string | undefined][] = []
    let accept = false
    vi.stubGlobal(
      'fetch',
      vi.fn(async (url: string | URL | Request) => {
        const lookup = !String(url).endsWith('/versions')
        if (accept) return new Response(JSON.stringify({ id: 9 }), { status: 200 })
        if (lookup) return new Response(JSON.stringify({ error_code: 40401, message: 'Subject not found' }), { status: 404 })
        return new Response(JSON.stringify({ error_code: 409, message: 'Schema being registered is incompatible with an earlier schema' }), { status: 409 })
      }),
    )
    const ids = createSchemaIds({ url: 'http://registry.test', onRefused: (subject, reason) => refusals.push([subject, reason]) })
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
    for (const content of [undefined, '', '{"truncated": ', 'null', '"text"', `{"${UNREACHABLE}\\u0000a\\u0000${schemaHash(EVENT)}": "7", "${UNREACHABLE}\\u0000b\\u0000${schemaHash(EVENT)}": 8}`]) {
      noHttp()
      const cacheFile = join(dir, `ids-${Math.random()}.json`)
      if (content !== undefined) await writeFile(cacheFile, content)
      const ids = createSchemaIds({ url: UNREACHABLE, cacheFile })
      await expect(ids.idFor('a', EVENT), `content ${String(content)}`).rejects.toMatchObject({ code: ErrorCodes.REGISTRY_UNAVAILABLE })
      // only numbers are ids
      if (content?.includes('b\\u0000')) await expect(ids.idFor('b', EVENT)).resolves.toBe(8)
    }
  })

  it('reports a failed save through onCacheError and still answers the id', async () => {
    const cacheFile = join(dir, 'no-such-folder', 'schema-ids.json')
    fakeRegistry({ 'a-value': 5 })
    const errors: unknown[] = []
    const ids = createSchemaIds({ url: 'http://registry.test', cacheFile, onCacheError: (e) => errors.push(e) })
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
