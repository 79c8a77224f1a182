// The configuration contract (SPEC §7): every key, its type, its default and its bounds.
import { BlockList, isIP } from 'node:net'
import { z } from 'zod'
import { envSegment } from './env-names.js'

const cidr = z.string().refine(isCidr, { message: 'must be an IPv4 or IPv6 address or CIDR block, e.g. 10.0.0.0/8' })

export function isCidr(value: string): boolean {
  const [address, bits, extra] = value.split('/')
  if (address === undefined || extra !== undefined) return false
  const family = isIP(address)
  if (family === 0) return false
  if (bits === undefined) return true
  if (!/^\d{1,3}$/.test(bits)) return false
  const prefix = Number(bits)
  if (prefix > (family === 4 ? 32 : 128)) return false
  // BlockList validates the pair exactly as it will be used at request time.
  try {
    new BlockList().addSubnet(address, prefix, family === 4 ? 'ipv4' : 'ipv6')
    return true
  } catch {
    return false
  }
}

const secret = z.string().min(8, { message: 'a secret must be at least 8 characters' })

const rateLimit = z.strictObject({
  perSecond: z.number().positive(),
  burst: z.int().positive().optional(),
})

const sourceCommon = {
  id: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/, {
    message: 'must be 1-100 characters of letters, digits, ".", "_" or "-", starting with a letter or digit',
  }),
  secrets: z.array(secret).min(1, { message: 'at least one secret is required' }),
  allowCidrs: z.array(cidr).optional(),
  /** Default topic name (without prefix) → topic to use instead, e.g. { "dv2000.hospitality": "hotel1.rooms" }. */
  topics: z.record(z.string(), z.string().min(1)).optional(),
  rateLimit: rateLimit.optional(),
}

export const dv2000SourceSchema = z.strictObject({
  ...sourceCommon,
  type: z.literal('dv2000'),
  /** Like the sender's own `-cat`: only these categories are produced; absent means all. */
  categories: z.array(z.int().min(0).max(255)).min(1).optional(),
})

export const servioEntities = ['client', 'company', 'guest', 'room'] as const
export const servioActions = ['add', 'update', 'delete'] as const

export const servioSourceSchema = z.strictObject({
  ...sourceCommon,
  type: z.literal('servio'),
  hotelId: z.string().min(1).optional(),
  entities: z.array(z.enum(servioEntities)).min(1).optional(),
  actions: z.array(z.enum(servioActions)).min(1).optional(),
})

export const sourceSchema = z.discriminatedUnion('type', [dv2000SourceSchema, servioSourceSchema])

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]'])

/**
 * A registry URL's `user:password@` moves into Basic auth, so no log line, error or metric can print it with
 * the URL; credentials over plain http to another machine would cross the network in clear and are refused.
 * Messages never quote the URL or the credentials.
 */
function credentialsOutOfUrl(
  registry: { url: string; username?: string | undefined; password?: string | undefined },
  ctx: z.RefinementCtx,
): { url: string; username?: string | undefined; password?: string | undefined } {
  const url = new URL(registry.url)
  let { username, password } = registry
  if (url.username !== '' || url.password !== '') {
    if (username !== undefined || password !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['url'], message: 'holds credentials while schemaRegistry.username/password are set too: keep one of them' })
      return registry
    }
    username = decodeURIComponent(url.username)
    password = decodeURIComponent(url.password)
    url.username = ''
    url.password = ''
  }
  if (username !== undefined && url.protocol === 'http:' && !LOOPBACK_HOSTS.has(url.hostname)) {
    ctx.addIssue({
      code: 'custom',
      path: ['url'],
      message: 'carries credentials over plain http:// to another host, where anyone on the way can read them: use https://',
    })
  }
  return { url: url.href.replace(/\/$/, ''), username, password }
}

const hostPort = z.string().regex(/^[^\s:]+:\d{1,5}$|^\[[0-9a-fA-F:]+\]:\d{1,5}$/, { message: 'must be host:port' })

export const configSchema = z
  .strictObject({
    http: z
      .strictObject({
        host: z.string().min(1).default('0.0.0.0'),
        port: z.int().min(0).max(65535).default(8080),
        bodyLimitBytes: z.int().positive().default(1_048_576),
        /**
         * Whose X-Forwarded-For to believe for the allow-lists: false (nobody: the peer is the client), the number
         * of proxies in front of the bridge, or their addresses/CIDRs. `true` would believe every hop.
         */
        trustProxy: z
          .union([z.boolean(), z.int().min(0).max(32), z.array(cidr).min(1)])
          .default(false)
          .refine((value) => value !== true, {
            message:
              'true would believe every X-Forwarded-For hop, so any client could claim an allowed address: give the number of proxies in front of the bridge (e.g. 1) or their addresses (e.g. ["10.0.0.5"])',
          }),
        /** Serve HTTPS: the senders put their secret in the URL, so it should not cross a network in clear. */
        tls: z
          .strictObject({
            certFile: z.string().min(1),
            keyFile: z.string().min(1),
          })
          .optional(),
      })
      .prefault({}),
    kafka: z
      .strictObject({
        brokers: z.array(hostPort).min(1).default(['127.0.0.1:9092']),
        clientId: z.string().min(1).default('hotel-kafka-bridge'),
        /** How long a produce may wait for others to share its request when none is in flight (Kafka 4 producers default to 5). */
        lingerMs: z.int().min(0).max(1000).default(5),
        /** Records per produce request at most. */
        maxBatchRecords: z.int().min(1).default(20_000),
        /** A request whose records Kafka has not acknowledged by then is answered as unavailable. */
        ackTimeoutMs: z.int().min(100).default(5_000),
        connectionTimeoutMs: z.int().min(100).default(3_000),
        /** An idle bridge sends a metadata request this often, so bridge_kafka_up and /readyz follow Kafka without traffic. */
        probeIntervalMs: z.int().min(100).default(10_000),
        requestTimeoutMs: z.int().min(100).default(30_000),
        ssl: z.boolean().default(false),
        sasl: z
          .strictObject({
            mechanism: z.enum(['plain', 'scram-sha-256', 'scram-sha-512']),
            username: z.string().min(1),
            password: z.string().min(1),
          })
          .optional(),
      })
      .prefault({}),
    topics: z
      .strictObject({
        /** Create missing topics at start-up. */
        create: z.boolean().default(true),
        partitions: z.int().min(1).default(3),
        /** -1: the broker's default.replication.factor. */
        replicationFactor: z.int().min(-1).default(-1),
      })
      .prefault({}),
    schemaRegistry: z
      .strictObject({
        url: z.url({ protocol: /^https?$/, message: 'must be an http:// or https:// URL' }).default('http://127.0.0.1:8081'),
        username: z.string().optional(),
        password: z.string().optional(),
      })
      .prefault({})
      .transform(credentialsOutOfUrl),
    topicPrefix: z
      .string()
      .regex(/^[A-Za-z0-9._-]*$/, { message: 'may hold only letters, digits, ".", "_" and "-"' })
      .default(''),
    spool: z
      .strictObject({
        dir: z.string().min(1).default('./var/spool'),
        maxBytes: z.int().positive().default(1_073_741_824),
      })
      .prefault({}),
    log: z
      .strictObject({
        level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
      })
      .prefault({}),
    sources: z.array(sourceSchema).default([]),
  })
  .superRefine((config, ctx) => {
    const seen = new Set<string>()
    const byVariable = new Map<string, string>()
    config.sources.forEach((source, index) => {
      if (seen.has(source.id)) {
        ctx.addIssue({ code: 'custom', path: ['sources', index, 'id'], message: `duplicate source id "${source.id}"` })
      } else {
        // front-desk and front_desk would both be set by BRIDGE_SOURCES_FRONT_DESK_*: one secret for two sources.
        const prefix = `BRIDGE_SOURCES_${envSegment(source.id)}_`
        const other = byVariable.get(prefix)
        if (other !== undefined) {
          ctx.addIssue({ code: 'custom', path: ['sources', index, 'id'], message: `"${source.id}" and "${other}" share the environment variables ${prefix}*: rename one` })
        }
        byVariable.set(prefix, source.id)
      }
      seen.add(source.id)
    })
  })

export type BridgeConfig = z.infer<typeof configSchema>
export type SourceConfig = z.infer<typeof sourceSchema>
export type Dv2000SourceConfig = z.infer<typeof dv2000SourceSchema>
export type ServioSourceConfig = z.infer<typeof servioSourceSchema>
export type ServioEntity = (typeof servioEntities)[number]
export type ServioAction = (typeof servioActions)[number]
