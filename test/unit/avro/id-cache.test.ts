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
  it('saves ids after idFor, and a new instance on the same file knows them with no HTTP at all', async () => {
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
    expect(onDisk).toEqual({ [`dv2000.hospitality-value\u0000${schemaHash(EVENT)}`]: 11, [`servio.bookings-value\u0000${schemaHash(CHANGE)}`]: 22 })

    // Restart with the registry down.
    const http = noHttp()
    const second = createSchemaIds({ url: UNREACHABLE, cacheFile, timeoutMs: 200 })
    expect(second.cachedId('dv2000.hospitality-value', EVENT)).toBe(11)
    expect(second.cachedId('servio.bookings-value', CHANGE)).toBe(22)
    await expect(second.idFor('servio.bookings-value', CHANGE)).resolves.toBe(22)
    expect(http).not.toHaveBeenCalled()

    // An id is per subject and per schema text: anything else still needs the registry.
    expect(second.cachedId('servio.bookings-value', EVENT)).toBeUndefined()
    expect(second.cachedId('dv2000.hospitality-value', `${EVENT} `)).toBeUndefined()
    const error = await second.idFor('servio.bookings-value', EVENT).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(BridgeError)
    expect((error as BridgeError).code).toBe(ErrorCodes.REGISTRY_UNAVAILABLE)
    expect((error as BridgeError).retriable).toBe(true)
    expect(http).toHaveBeenCalledTimes(1)
  })

  it('keeps adding to the file as new ids are learnt, across instances', async () => {
    const cacheFile = join(dir, 'schema-ids.json')
    fakeRegistry({ 'a-value': 1 })
    await createSchemaIds({ url: 'http://registry.test', cacheFile }).idFor('a-value', EVENT)
    await fileHolds(cacheFile, 1)
    fakeRegistry({ 'b-value': 2 })
    const second = createSchemaIds({ url: 'http://registry.test', cacheFile })
    await second.idFor('b-value', EVENT)
    await fileHolds(cacheFile, 2)
    noHttp()
    const third = createSchemaIds({ url: UNREACHABLE, cacheFile })
    expect([third.cachedId('a-value', EVENT), third.cachedId('b-value', EVENT)]).toEqual([1, 2])
  })

  it('starts empty, without throwing, from a missing, unreadable or odd cache file', async () => {
    noHttp()
    for (const content of [undefined, '', '{"truncated": ', 'null', '"text"', `{"a\\u0000${schemaHash(EVENT)}": "7", "b\\u0000${schemaHash(EVENT)}": 8}`]) {
      const cacheFile = join(dir, `ids-${Math.random()}.json`)
      if (content !== undefined) await writeFile(cacheFile, content)
      const ids = createSchemaIds({ url: UNREACHABLE, cacheFile })
      expect(ids.cachedId('a', EVENT), `content ${String(content)}`).toBeUndefined()
      if (content?.includes('"b')) expect(ids.cachedId('b', EVENT)).toBe(8) // only numbers are ids
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
