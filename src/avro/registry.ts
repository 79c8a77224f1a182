// Registers each (subject, schema) once with a Confluent-API registry and caches its id, per registry, verified before it is trusted.
import { BridgeError, ErrorCodes } from '../errors.js'
import { createRegistryHttp, type RegistryHttpOptions } from './registry-http.js'
import { loadIdCache, saveIdCache } from './id-cache.js'
import { schemaHash } from './schemas.js'

export const NEW_SUBJECT_COMPATIBILITY = 'FULL_TRANSITIVE'

export interface RegistryOptions extends RegistryHttpOptions {
  /** Where ids are kept across restarts, so a cold start with the registry down can still encode. */
  cacheFile?: string | undefined
  onCacheError?: (error: unknown) => void
  /** The registry answered another id than the one cached for this subject and schema (a rebuilt registry). */
  onIdChanged?: (subject: string, cached: number, actual: number) => void
  /** The registry refused a subject's schema (or accepted it again: reason undefined). */
  onRefused?: (subject: string, reason: string | undefined) => void
}

export interface SchemaIds {
  /** The registry id of `schemaText` under `subject`, registering it the first time. */
  idFor(subject: string, schemaText: string): Promise<number>
  /** Ids known and checked (or trusted because the registry could not be asked), without I/O. */
  cachedId(subject: string, schemaText: string): number | undefined
  /**
   * Asks the registry for the id of `schemaText` under `subject` (registering it if missing) whatever the cache
   * holds, and replaces a cached id that differs: done once per subject at start-up.
   */
  verify(subject: string, schemaText: string): Promise<number>
  /** Subjects whose schema the registry refuses now, with its reason. */
  readonly refused: ReadonlyMap<string, string>
}

/** Confluent error codes: subject not found, schema not found (the subject exists). */
const SUBJECT_NOT_FOUND = 40401

/**
 * The calls the bridge needs, over registry-http.ts: the Confluent client's register() compares the subject's
 * compatibility with the one it asks for and throws when a registry (Apicurio) reports NONE for a subject
 * without a rule of its own, which would stop every schema evolution there.
 */
export function createSchemaIds(options: RegistryOptions): SchemaIds {
  const http = createRegistryHttp(options)
  const { base, call, failure } = http
  // The cache on disk holds ids of every registry the spool folder has known: keyed by the registry's URL, so a
  // bridge pointed at another registry never writes the old one's ids.
  const ids = options.cacheFile === undefined ? new Map<string, number>() : loadIdCache(options.cacheFile)
  /** Ids this process may use without asking: checked with the registry, or trusted while it could not be reached. */
  const usable = new Set<string>()
  const refused = new Map<string, string>()
  const inFlight = new Map<string, Promise<number>>()
  const hashes = new Map<string, string>()
  const keyOf = (subject: string, text: string): string => {
    let hash = hashes.get(text)
    if (hash === undefined) hashes.set(text, (hash = schemaHash(text)))
    return `${base}\u0000${subject}\u0000${hash}`
  }
  let saving = Promise.resolve()
  const persist = (): void => {
    const file = options.cacheFile
    if (file === undefined) return
    saving = saving.then(() => saveIdCache(file, ids)).catch((error: unknown) => options.onCacheError?.(error))
  }

  async function register(subject: string, schemaText: string): Promise<number> {
    const path = `/subjects/${encodeURIComponent(subject)}`
    // A lookup first: after a restart the schema is already there and nothing is written.
    const found = await call('POST', path, subject, { schema: schemaText })
    if (found.status === 200 && typeof found.body['id'] === 'number') return found.body['id']
    if (found.status !== 404) throw failure(found, subject, 'looking up the schema of')
    const created = await call('POST', `${path}/versions`, subject, { schema: schemaText })
    if (created.status !== 200 || typeof created.body['id'] !== 'number') throw failure(created, subject, 'registering a schema for')
    if (found.body['error_code'] === SUBJECT_NOT_FOUND) {
      // A new subject gets FULL_TRANSITIVE of its own (SPEC §3: old consumers read new records and new ones old
      // records, across every version), whatever the registry's global default. An operator may change it later.
      const set = await call('PUT', `/config/${encodeURIComponent(subject)}`, subject, { compatibility: NEW_SUBJECT_COMPATIBILITY })
      if (set.status !== 200) throw failure(set, subject, `setting ${NEW_SUBJECT_COMPATIBILITY} compatibility on`)
    }
    return created.body['id']
  }

  /** The registry's answer for (subject, schema), recorded; a cached id it contradicts is replaced and reported. */
  function ask(key: string, subject: string, schemaText: string): Promise<number> {
    let pending = inFlight.get(key)
    if (pending === undefined) {
      pending = register(subject, schemaText)
        .then(
          (id) => {
            const cached = ids.get(key)
            if (cached !== undefined && cached !== id) options.onIdChanged?.(subject, cached, id)
            ids.set(key, id)
            usable.add(key)
            if (refused.delete(subject)) options.onRefused?.(subject, undefined)
            if (cached !== id) persist()
            return id
          },
          (error: unknown) => {
            if (error instanceof BridgeError && error.code === ErrorCodes.REGISTRY_REJECTED) {
              refused.set(subject, error.message)
              options.onRefused?.(subject, error.message)
            }
            // Unreachable: this registry's own ids from disk are the best knowledge there is (a restart in an outage).
            const cached = ids.get(key)
            if (error instanceof BridgeError && error.retriable && cached !== undefined) {
              usable.add(key)
              return cached
            }
            throw error
          },
        )
        .finally(() => inFlight.delete(key))
      inFlight.set(key, pending)
    }
    return pending
  }

  return {
    refused,
    cachedId(subject, schemaText) {
      const key = keyOf(subject, schemaText)
      return usable.has(key) ? ids.get(key) : undefined
    },
    idFor(subject, schemaText) {
      const key = keyOf(subject, schemaText)
      const known = usable.has(key) ? ids.get(key) : undefined
      return known !== undefined ? Promise.resolve(known) : ask(key, subject, schemaText)
    },
    verify(subject, schemaText) {
      return ask(keyOf(subject, schemaText), subject, schemaText)
    },
  }
}
