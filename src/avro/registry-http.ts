// One Confluent-API schema registry over HTTP or HTTPS: bounded calls, Basic auth, a private CA and client certificate; answers as JSON.
import { request as httpRequest } from 'node:http'
import { request as httpsRequest } from 'node:https'
import { readFileSync } from 'node:fs'
import { BridgeError, ErrorCodes } from '../errors.js'

export interface RegistryHttpOptions {
  url: string
  username?: string | undefined
  password?: string | undefined
  /** Per HTTP call. */
  timeoutMs?: number | undefined
  /** PEM: the CA that signed the registry's certificate (a private CA), and a client certificate and key. */
  tls?: { ca?: Buffer | undefined; cert?: Buffer | undefined; key?: Buffer | undefined } | undefined
}

export interface Answer {
  status: number
  body: Record<string, unknown>
}

export interface RegistryHttp {
  /** The base URL, without credentials: the registry's identity. */
  readonly base: string
  /** Resolves with any HTTP answer; rejects with REGISTRY_UNAVAILABLE (retriable) when no answer came in time. */
  call(method: string, path: string, subject: string, body?: unknown): Promise<Answer>
  /** The error for an answer that is not the one wanted: a refusal, or (5xx, 408, 429) an outage. */
  failure(answer: Answer, subject: string, doing: string): BridgeError
}

const CONTENT_TYPE = 'application/vnd.schemaregistry.v1+json'

/** The PEM files of schemaRegistry.caFile/certFile/keyFile, read at start-up; an unreadable one is a config error naming it. */
export function readRegistryTls(files: { caFile?: string | undefined; certFile?: string | undefined; keyFile?: string | undefined }): RegistryHttpOptions['tls'] {
  const read = (key: string, file: string | undefined): Buffer | undefined => {
    if (file === undefined) return undefined
    try {
      return readFileSync(file)
    } catch (error) {
      throw new BridgeError(ErrorCodes.CONFIG_INVALID, `schemaRegistry.${key}: cannot read ${file}: ${(error as Error).message}`, { cause: error })
    }
  }
  const tls = { ca: read('caFile', files.caFile), cert: read('certFile', files.certFile), key: read('keyFile', files.keyFile) }
  return tls.ca === undefined && tls.cert === undefined && tls.key === undefined ? undefined : tls
}

export function createRegistryHttp(options: RegistryHttpOptions): RegistryHttp {
  const base = options.url.replace(/\/+$/, '')
  const timeoutMs = options.timeoutMs ?? 5_000
  const headers: Record<string, string> = { 'content-type': CONTENT_TYPE, accept: CONTENT_TYPE }
  if (options.username !== undefined) {
    headers['authorization'] = `Basic ${Buffer.from(`${options.username}:${options.password ?? ''}`).toString('base64')}`
  }
  const https = base.startsWith('https:')
  const send = https ? httpsRequest : httpRequest

  function unavailable(subject: string, error: Error): BridgeError {
    return new BridgeError(ErrorCodes.REGISTRY_UNAVAILABLE, `the schema registry at ${base} is unreachable (${subject}): ${error.message}`, { retriable: true, cause: error })
  }

  return {
    base,
    call(method, path, subject, body) {
      const payload = body === undefined ? undefined : JSON.stringify(body)
      return new Promise<Answer>((resolve, reject) => {
        const req = send(
          `${base}${path}`,
          {
            method,
            headers: payload === undefined ? headers : { ...headers, 'content-length': Buffer.byteLength(payload) },
            ...(https ? { ca: options.tls?.ca, cert: options.tls?.cert, key: options.tls?.key } : {}),
            agent: false,
          },
          (res) => {
            const chunks: Buffer[] = []
            res.on('data', (chunk: Buffer) => chunks.push(chunk))
            res.on('error', (error) => reject(unavailable(subject, error)))
            res.on('end', () => {
              clearTimeout(timer)
              const text = Buffer.concat(chunks).toString('utf8')
              let parsed: Record<string, unknown>
              try {
                const json: unknown = JSON.parse(text)
                parsed = typeof json === 'object' && json !== null && !Array.isArray(json) ? (json as Record<string, unknown>) : { value: json }
              } catch {
                parsed = { message: text.slice(0, 200) }
              }
              resolve({ status: res.statusCode ?? 0, body: parsed })
            })
          },
        )
        // The whole call, answer included, is bounded: a registry that trickles its answer is an outage too.
        const timer = setTimeout(() => req.destroy(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs)
        req.on('error', (error) => {
          clearTimeout(timer)
          reject(unavailable(subject, error))
        })
        req.end(payload)
      })
    },
    failure(answer, subject, doing) {
      const detail = `${doing} ${subject}: HTTP ${answer.status} ${String(answer.body['message'] ?? '')}`.trim()
      // 409 incompatible, 422 invalid, 401/403: retrying the same schema will not help. 5xx, 408, 429 may.
      const retriable = answer.status >= 500 || answer.status === 408 || answer.status === 429
      return retriable
        ? new BridgeError(ErrorCodes.REGISTRY_UNAVAILABLE, `the schema registry failed: ${detail}`, { retriable: true })
        : new BridgeError(ErrorCodes.REGISTRY_REJECTED, `the schema registry refused: ${detail}`)
    },
  }
}
