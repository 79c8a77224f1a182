// Registers each (subject, schema) once with a Confluent-API registry and caches its id.
import { SchemaRegistry, COMPATIBILITY, SchemaType } from '@kafkajs/confluent-schema-registry'
import { BridgeError, ErrorCodes } from '../errors.js'

export interface RegistryOptions {
  url: string
  username?: string | undefined
  password?: string | undefined
}

export interface SchemaIds {
  /** The registry id of `schemaText` under `subject`, registering it the first time. */
  idFor(subject: string, schemaText: string): Promise<number>
  /** Ids already known, without I/O. */
  cachedId(subject: string, schemaText: string): number | undefined
}

function statusOf(error: unknown): number | undefined {
  if (typeof error === 'object' && error !== null && 'status' in error) {
    const status = (error as { status: unknown }).status
    if (typeof status === 'number') return status
  }
  return undefined
}

/** 4xx answers (incompatible, invalid) will not change by retrying; the rest (network, 5xx) may. */
export function wrapRegistryError(error: unknown, subject: string): BridgeError {
  const status = statusOf(error)
  const message = error instanceof Error ? error.message : String(error)
  const name = error instanceof Error ? error.name : ''
  const rejected = (status !== undefined && status >= 400 && status < 500 && status !== 408 && status !== 429) || name === 'ConfluentSchemaRegistryCompatibilityError'
  return rejected
    ? new BridgeError(ErrorCodes.REGISTRY_REJECTED, `the schema registry refused the schema for ${subject}: ${message}`, { cause: error })
    : new BridgeError(ErrorCodes.REGISTRY_UNAVAILABLE, `the schema registry is unavailable (${subject}): ${message}`, { retriable: true, cause: error })
}

export function createSchemaIds(options: RegistryOptions): SchemaIds {
  const auth = options.username === undefined ? undefined : { username: options.username, password: options.password ?? '' }
  const client = new SchemaRegistry({ host: options.url.replace(/\/+$/, ''), auth, retry: { retries: 1, initialRetryTimeInSecs: 0.1, maxRetryTimeInSecs: 0.5 } })
  const ids = new Map<string, number>()
  const inFlight = new Map<string, Promise<number>>()
  const keyOf = (subject: string, text: string): string => `${subject}\u0000${text}`

  async function register(subject: string, schemaText: string): Promise<number> {
    const schema = { type: SchemaType.AVRO, schema: schemaText } as const
    try {
      // A lookup first: a restart finds its schemas already there, and a subject whose compatibility
      // an operator changed is not touched.
      return await client.getRegistryIdBySchema(subject, schema)
    } catch (error) {
      // The client turns a 404 of this lookup (and only that) into its bare base error class.
      const notRegistered = statusOf(error) === 404 || (error instanceof Error && error.name === 'ConfluentSchemaRegistryError')
      if (!notRegistered) throw error
    }
    const { id } = await client.register(schema, { subject, compatibility: COMPATIBILITY.BACKWARD })
    return id
  }

  return {
    cachedId(subject, schemaText) {
      return ids.get(keyOf(subject, schemaText))
    },
    idFor(subject, schemaText) {
      const key = keyOf(subject, schemaText)
      const known = ids.get(key)
      if (known !== undefined) return Promise.resolve(known)
      let pending = inFlight.get(key)
      if (pending === undefined) {
        pending = register(subject, schemaText)
          .then((id) => {
            ids.set(key, id)
            return id
          })
          .catch((error: unknown) => {
            throw wrapRegistryError(error, subject)
          })
          .finally(() => inFlight.delete(key))
        inFlight.set(key, pending)
      }
      return pending
    },
  }
}
