// The configuration contract (SPEC §7): every key, its type, its default and its bounds; sources by their senders' options.
import { z } from 'zod'
import { envSegment } from './env-names.js'
import { checkCertificates, checkPrivateKey, readSecret, readSecretLines } from './files.js'
import { cidr, sourceSchemaOf, type SourceConfig } from './source-common.js'

export { isCidr, type SourceConfig } from './source-common.js'

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]'])

/**
 * A registry URL's `user:password@` moves into Basic auth, so no log line, error or metric can print it with
 * the URL; credentials over plain http to another machine would cross the network in clear and are refused.
 * Messages never quote the URL or the credentials.
 */
function credentialsOutOfUrl<R extends { url: string; username?: string | undefined; password?: string | undefined }>(registry: R, ctx: z.RefinementCtx): R {
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
  return { ...registry, url: url.href.replace(/\/$/, ''), username, password }
}

interface KafkaFiles {
  ssl: boolean
  caFile?: string | undefined
  certFile?: string | undefined
  keyFile?: string | undefined
  sasl?: { mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512'; username: string; password?: string | undefined; passwordFile?: string | undefined } | undefined
}

/**
 * The files kafka.* names, checked where the key is known: a certificate, a key and a password file each readable
 * and well-formed, a client certificate with its key, one password. Messages name the key and path, never content.
 */
function kafkaFiles<K extends KafkaFiles>(kafka: K, ctx: z.RefinementCtx): Omit<K, 'sasl'> & { sasl?: { mechanism: NonNullable<K['sasl']>['mechanism']; username: string; password: string } } {
  if (kafka.caFile !== undefined) checkCertificates(kafka.caFile, ctx, ['caFile'])
  if (kafka.certFile !== undefined) checkCertificates(kafka.certFile, ctx, ['certFile'])
  if (kafka.keyFile !== undefined) checkPrivateKey(kafka.keyFile, ctx, ['keyFile'])
  if ((kafka.certFile === undefined) !== (kafka.keyFile === undefined)) {
    ctx.addIssue({ code: 'custom', path: [kafka.certFile === undefined ? 'certFile' : 'keyFile'], message: 'a client certificate needs both kafka.certFile and kafka.keyFile' })
  }
  const { sasl, ...rest } = kafka
  if (sasl === undefined) return rest
  const { passwordFile, password, ...who } = sasl
  if ((password === undefined) === (passwordFile === undefined)) {
    ctx.addIssue({ code: 'custom', path: ['sasl', 'password'], message: 'give either kafka.sasl.password or kafka.sasl.passwordFile' })
    return rest
  }
  const resolved = password ?? readSecret(passwordFile!, ctx, ['sasl', 'passwordFile'])
  return resolved === undefined ? rest : { ...rest, sasl: { ...who, password: resolved } }
}

/** schemaRegistry.passwordFile into schemaRegistry.password. */
function registryPasswordFile<R extends { password?: string | undefined; passwordFile?: string | undefined }>(registry: R, ctx: z.RefinementCtx): Omit<R, 'passwordFile'> {
  const { passwordFile, ...rest } = registry
  if (passwordFile === undefined) return rest
  if (registry.password !== undefined) {
    ctx.addIssue({ code: 'custom', path: ['password'], message: 'give either schemaRegistry.password or schemaRegistry.passwordFile' })
    return rest
  }
  return { ...rest, password: readSecret(passwordFile, ctx, ['passwordFile']) }
}

const hostPort = z.string().regex(/^[^\s:]+:\d{1,5}$|^\[[0-9a-fA-F:]+\]:\d{1,5}$/, { message: 'must be host:port' })

/** Every key but `sources`: what does not depend on which senders are registered. */
const settings = {
  http: z
    .strictObject({
      host: z.string().min(1).default('0.0.0.0'),
      port: z.int().min(0).max(65535).default(8080),
      bodyLimitBytes: z.int().positive().default(1_048_576),
      /**
       * Records one request may become at most; over it: 413, the raw body to the dead letter. Servio's documented
       * batches carry 1 to 8 ids; a unification of duplicates may carry many more. 10,000 leaves three orders of
       * magnitude of room while a batch at the cap is taken in about a tenth of a second (make bench-batch).
       */
      maxRecordsPerRequest: z.int().min(1).max(1_000_000).default(10_000),
      /**
       * Connections held at most; one more is closed as soon as accepted (overload: answered by nobody rather than
       * late). At about 1 ms of CPU per HTTPS connection, 256 queued connections are a quarter of a second's work.
       */
      maxConnections: z.int().min(1).default(256),
      /**
       * A connection arriving after the process has been busy without a pause this long is closed at once
       * (overload: connections wait in the kernel meanwhile). Above the half second a 10,000-record batch keeps a
       * process busy, well within kafka.ackTimeoutMs.
       */
      maxBusyMs: z.int().min(50).default(1_000),
      /**
       * Processes serving HTTP (TLS, parsing, Avro encoding) on the one port; with more than 1, a primary process
       * holds the Kafka producer and the spool for them all. Set it to the host's cores for DV2000 over HTTPS.
       */
      processes: z.int().min(1).max(64).default(1),
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
      /** `tail` and `deadletter replay` read in a consumer group of their own per run, named with this prefix (its ACL). */
      readerGroupPrefix: z.string().min(1).default('hotel-kafka-bridge-'),
      /**
       * An extra wait for company before a produce call when none is in flight. 0: a record goes at once, and what
       * arrives while a call is in flight forms the next call (natural batching, as the spool's group commit). Kafka's
       * own producers linger 5 ms because they send asynchronously; a bridge whose answer waits for the ack only adds
       * that wait to every answer (p50 5.3 → 1.4 ms at 1,000 events/s, make bench).
       */
      lingerMs: z.int().min(0).max(1000).default(0),
      /**
       * While requests keep arriving, a produce call waits for them, at most this long after its oldest request: fewer
       * calls, less CPU per event (each call costs kafkajs's encoding and a write). A lone request, or one from senders
       * that all wait for their answers, still goes at once (delivery/gathering.ts). 0: never wait (only lingerMs).
       */
      busyLingerMs: z.int().min(0).max(1000).default(20),
      /** Records per produce request at most. */
      maxBatchRecords: z.int().min(1).default(20_000),
      /** A request whose records Kafka has not acknowledged by then is answered as unavailable. */
      ackTimeoutMs: z.int().min(100).default(5_000),
      connectionTimeoutMs: z.int().min(100).default(3_000),
      /** An idle bridge sends a metadata request this often, so bridge_kafka_up and /readyz follow Kafka without traffic. */
      probeIntervalMs: z.int().min(100).default(10_000),
      requestTimeoutMs: z.int().min(100).default(30_000),
      /** TLS trusting the system's CAs (Node's, NODE_EXTRA_CA_CERTS included). caFile or certFile imply TLS. */
      ssl: z.boolean().default(false),
      /** PEM: the private CA that signed the brokers' certificates (instead of the system's). */
      caFile: z.string().min(1).optional(),
      /** PEM: a client certificate and its unencrypted key, for brokers that require mutual TLS. */
      certFile: z.string().min(1).optional(),
      keyFile: z.string().min(1).optional(),
      sasl: z
        .strictObject({
          mechanism: z.enum(['plain', 'scram-sha-256', 'scram-sha-512']),
          username: z.string().min(1),
          password: z.string().min(1).optional(),
          /** A file holding the password (a Docker or Kubernetes secret): read at start-up and on reload. */
          passwordFile: z.string().min(1).optional(),
        })
        .optional(),
    })
    .prefault({})
    .transform(kafkaFiles),
  topics: z
    .strictObject({
      /** Create missing topics at start-up. */
      create: z.boolean().default(true),
      partitions: z.int().min(1).default(3),
      /** -1: the broker's default.replication.factor. */
      replicationFactor: z.int().min(-1).default(-1),
      /** -1: the broker's min.insync.replicas. Set on the topics the bridge creates; acks=all needs that many in sync. */
      minInsyncReplicas: z.int().min(-1).default(-1),
    })
    .prefault({}),
  schemaRegistry: z
    .strictObject({
      url: z.url({ protocol: /^https?$/, message: 'must be an http:// or https:// URL' }).default('http://127.0.0.1:8081'),
      username: z.string().optional(),
      password: z.string().optional(),
      /** A file holding the password, instead of `password`. */
      passwordFile: z.string().min(1).optional(),
      /** Each HTTP call to the registry at most; a request's calls are also bounded by kafka.ackTimeoutMs. */
      timeoutMs: z.int().min(100).default(5_000),
      /** PEM files for a registry behind TLS: the private CA that signed its certificate, a client certificate and key. */
      caFile: z.string().min(1).optional(),
      certFile: z.string().min(1).optional(),
      keyFile: z.string().min(1).optional(),
    })
    .prefault({})
    .transform((registry, ctx) => credentialsOutOfUrl(registryPasswordFile(registry, ctx), ctx)),
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
  /**
   * On SIGTERM: stop accepting, finish in-flight requests, replay the spool while Kafka answers; the whole stop takes
   * this long at most. The default fits Docker's 10 s stop timeout; raise it with the container's (Kubernetes: 30 s).
   */
  shutdownGraceMs: z.int().min(0).max(600_000).default(8_000),
  log: z
    .strictObject({
      level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    })
    .prefault({}),
  /** SIGHUP reloads; `watch` also reloads when the config file or a file it names changes (Kubernetes sends no signal). */
  reload: z
    .strictObject({
      watch: z.boolean().default(false),
      /** How often watched files are read and compared (a ConfigMap is replaced by a symlink swap, not written to). */
      watchIntervalMs: z.int().min(500).max(600_000).default(5_000),
    })
    .prefault({}),
}

export const settingsSchema = z.strictObject(settings)

/** A source's secrets: those in the config and those of its secretsFile (one per line, checked with the source). */
function withSecretsFile<S extends SourceConfig>(source: S, index: number, ctx: z.RefinementCtx): S {
  const fromFile = source.secretsFile === undefined ? [] : readSecretLines(source.secretsFile, ctx, ['sources', index, 'secretsFile'])
  return { ...source, secrets: [...source.secrets, ...fromFile] }
}

/** What the config needs of a sender: its type and the zod shape of its own options. */
export interface SenderOptions {
  readonly type: string
  readonly options: z.ZodRawShape
}

/** The whole config schema for these senders: `sources` is the union of their source schemas, by `type`. */
export function configSchemaFor(senders: readonly SenderOptions[]) {
  const sourceSchemas = senders.map((sender) => sourceSchemaOf(sender.type, sender.options))
  const source =
    sourceSchemas.length === 0
      ? z.never()
      : z.discriminatedUnion('type', sourceSchemas as unknown as [ReturnType<typeof sourceSchemaOf>, ...ReturnType<typeof sourceSchemaOf>[]])
  return z
    .strictObject({ ...settings, sources: z.array(source).default([]) })
    .transform((config, ctx) => ({ ...config, sources: config.sources.map((source, index) => withSecretsFile(source, index, ctx)) }))
    .superRefine((config, ctx) => {
      const { lingerMs, busyLingerMs, ackTimeoutMs } = config.kafka
      if (lingerMs + busyLingerMs >= ackTimeoutMs) {
        // Every event under load would wait out its ack timeout and be answered 202 from the spool.
        ctx.addIssue({ code: 'custom', path: ['kafka', 'busyLingerMs'], message: `kafka.lingerMs + busyLingerMs (${lingerMs + busyLingerMs} ms) must be less than kafka.ackTimeoutMs (${ackTimeoutMs} ms)` })
      }
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
}

export type BridgeConfig = z.infer<typeof settingsSchema> & { sources: SourceConfig[] }
