// Registers each (subject, schema) once with a Confluent-API registry and caches its id, per registry, verified before it is trusted.
import { BridgeError, ErrorCodes } from '../errors.js'
import { loadIdCache, saveIdCache } from './id-cache.js'
import { schemaHash } from './schemas.js'

export interface RegistryOptions {
  url: string
  username?: string | undefined
  password?: string | undefined
  /** Per HTTP call. */
  timeoutMs?: number
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

const CONTENT_TYPE = 'application/vnd.schemaregistry.v1+json'
/** Confluent error codes: subject not found, schema not found (the subject exists). */
const SUBJECT_NOT_FOUND = 40401

interface Answer {
  status: number
  body: Record<string, unknown>
}

/**
 * The two calls the bridge needs, over fetch: the Confluent client's register() compares the subject's
 * compatibility with the one it asks for and throws when a registry (Apicurio) reports NONE for a subject
 * without a rule of its own, which would stop every schema evolution there.
 */
export function createSchemaIds(options: RegistryOptions): SchemaIds {
  const base = options.url.replace(/\/+$/, '')
  const timeoutMs = options.timeoutMs ?? 5_000
  const headers: Record<string, string> = { 'content-type': CONTENT_TYPE, accept: CONTENT_TYPE }
  if (options.username !== undefined) {
    headers['authorization'] = `Basic ${Buffer.from(`${options.username}:${options.password ?? ''}`).toString('base64')}`
  }
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

  async function call(method: string, path: string, subject: string, body: unknown): Promise<Answer> {
    let response: Response
    try {
      response = await fetch(`${base}${path}`, { method, headers, body: JSON.stringify(body), signal: AbortSignal.timeout(timeoutMs) })
    } catch (error) {
      throw new BridgeError(ErrorCodes.REGISTRY_UNAVAILABLE, `the schema registry at ${base} is unreachable (${subject}): ${(error as Error).message}`, {
        retriable: true,
        cause: error,
      })
    }
    const text = await response.text()
    let parsed: Record<string, unknown> = {}
    try {
      parsed = JSON.parse(text) as Record<string, unknown>
    } catch {
      parsed = { message: text.slice(0, 200) }
    }
    return { status: response.status, body: parsed }
  }

  function failure(answer: Answer, subject: string, doing: string): BridgeError {
    const detail = `${doing} ${subject}: HTTP ${answer.status} ${String(answer.body['message'] ?? '')}`.trim()
    // 409 incompatible, 422 invalid, 401/403: retrying the same schema will not help. 5xx, 408, 429 may.
    const retriable = answer.status >= 500 || answer.status === 408 || answer.status === 429
    return retriable
      ? new BridgeError(ErrorCodes.REGISTRY_UNAVAILABLE, `the schema registry failed: ${detail}`, { retriable: true })
      : new BridgeError(ErrorCodes.REGISTRY_REJECTED, `the schema registry refused: ${detail}`)
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
      // A new subject gets BACKWARD of its own, so consumers stay safe whatever the registry's global default.
      const set = await call('PUT', `/config/${encodeURIComponent(subject)}`, subject, { compatibility: 'BACKWARD' })
      if (set.status !== 200) throw failure(set, subject, 'setting BACKWARD compatibility on')
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
