// What every configured source has, whatever its sender: id, secrets, allow-list, topic overrides, rate limit.
import { BlockList, isIP } from 'node:net'
import { z } from 'zod'
import { readSecretLines } from './files.js'

export const cidr = z.string().refine(isCidr, { message: 'must be an IPv4 or IPv6 address or CIDR block, e.g. 10.0.0.0/8' })

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

const UNIT_MS = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const

/** A duration as operators write it: `90s`, `30m`, `6h`, `2d`; in milliseconds. */
export const duration = z
  .string()
  .regex(/^\d{1,6}[smhd]$/, { message: 'must be a number and a unit: s, m, h or d (e.g. 6h)' })
  .transform((text) => Number(text.slice(0, -1)) * UNIT_MS[text.slice(-1) as keyof typeof UNIT_MS])
  .refine((ms) => ms >= 1_000, { message: 'must be at least 1s' })

/** What a source id may be: also what the HTTP edge may repeat back of an id it does not know. */
export const SOURCE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/

/** The keys every source has, whatever its sender. */
export const sourceCommon = {
  id: z.string().regex(SOURCE_ID, {
    message: 'must be 1-100 characters of letters, digits, ".", "_" or "-", starting with a letter or digit',
  }),
  /** At least one here or in secretsFile (checked with the whole config). */
  secrets: z.array(secret).default([]),
  /** A file of secrets, one per line (a Docker or Kubernetes secret): read at start-up and on reload. */
  secretsFile: z.string().min(1).optional(),
  allowCidrs: z.array(cidr).optional(),
  /** Default topic name (without prefix) → topic to use instead, e.g. { "dv2000.hospitality": "hotel1.rooms" }. */
  topics: z.record(z.string(), z.string().min(1)).optional(),
  rateLimit: rateLimit.optional(),
  /**
   * Flag the source silent when no authenticated request came for this long (DV2000 drops its Events server from the
   * server list on an upgrade, and its events just stop).
   */
  silentAfter: duration.optional(),
}


/** A sender type names its routes (/v1/{type}/…) and its config: lower case letters, digits and dashes. */
export const SENDER_TYPE = /^[a-z][a-z0-9-]{0,31}$/

/** A source of one sender: the common keys, `type`, and the sender's own options (DV2000's categories, …). */
export function sourceSchemaOf<T extends string, O extends z.ZodRawShape>(type: T, options: O) {
  return z.strictObject({ ...sourceCommon, type: z.literal(type), ...options }).superRefine((source, ctx) => {
    const { secrets, secretsFile } = source as { secrets: string[]; secretsFile?: string }
    // Read here to report its problems with every other key's; the whole config's transform reads it into `secrets`.
    if (secretsFile !== undefined) readSecretLines(secretsFile, ctx, ['secretsFile'])
    if (secrets.length === 0 && secretsFile === undefined) {
      ctx.addIssue({ code: 'custom', path: ['secrets'], message: 'at least one secret is required (secrets, or secretsFile)' })
    }
  })
}

const baseSource = sourceSchemaOf('', {})

/** A configured source as code outside its sender sees it; each sender's component knows its own options. */
export type SourceConfig = Omit<z.infer<typeof baseSource>, 'type'> & { type: string }
