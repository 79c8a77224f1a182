// `sources list` and `sources url`: what an integration team needs to onboard a hotel, from the config alone.
import type { BridgeConfig, SourceConfig } from '../config/schema.js'
import { sourcePath } from '../records.js'
import { builtInSources, type SourceRegistry } from '../sources/index.js'
import { UsageError } from './usage.js'

export interface SourceListing {
  id: string
  type: string
  /** The route it posts to (behind the bridge's base URL). */
  path: string
  secrets: number
  secretsFile: string | null
  /** The sender's own keys: DV2000's categories, Servio's entities, actions and hotelId. */
  options: Record<string, unknown>
  allowCidrs: string[] | null
  silentAfterSeconds: number | null
}

/** Keys every source has; the rest are its sender's options. */
const COMMON = new Set(['id', 'type', 'secrets', 'secretsFile', 'allowCidrs', 'topics', 'rateLimit', 'silentAfter'])

export function listSources(config: BridgeConfig): SourceListing[] {
  return config.sources.map((source) => ({
    id: source.id,
    type: source.type,
    path: sourcePath(source.type, source.id),
    secrets: source.secrets.length,
    secretsFile: source.secretsFile ?? null,
    options: Object.fromEntries(Object.entries(source).filter(([key]) => !COMMON.has(key))),
    allowCidrs: source.allowCidrs ?? null,
    silentAfterSeconds: source.silentAfter === undefined ? null : source.silentAfter / 1000,
  }))
}

export function formatSources(list: readonly SourceListing[]): string {
  if (list.length === 0) return 'no sources are configured\n'
  const options = (l: SourceListing): string => {
    const parts = Object.entries(l.options).map(([key, value]) => `${key}=${Array.isArray(value) ? value.join(',') : String(value)}`)
    return parts.length === 0 ? 'all events' : parts.join(' ')
  }
  const rows = list.map((l) => [l.id, l.type, l.path, `${l.secrets}${l.secretsFile === null ? '' : ` (${l.secretsFile})`}`, options(l), l.allowCidrs?.join(',') ?? 'any address'])
  const header = ['ID', 'TYPE', 'PATH', 'SECRETS', 'OPTIONS', 'ALLOWED FROM']
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)))
  const line = (cells: string[]): string => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ')
  return `${[header, ...rows].map(line).join('\n')}\n`
}

/** The bridge's public base URL: http(s), no query; a trailing slash dropped. */
function baseUrl(base: string | undefined): URL {
  if (base === undefined) throw new UsageError('sources url needs --base, the address the sender reaches the bridge at, e.g. --base https://bridge.example.com')
  let url: URL
  try {
    url = new URL(base)
  } catch {
    throw new UsageError(`--base ${base} is not a URL, e.g. https://bridge.example.com`)
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new UsageError(`--base must be an http:// or https:// URL, not ${url.protocol}`)
  if (url.search !== '' || url.hash !== '') throw new UsageError('--base must not carry a query or fragment')
  return url
}

export interface SenderUrl {
  url: string
  /** What to type into the sender, in its own words. */
  setup: string
  /** Said when the URL is http://: the token would cross the network in clear. */
  warning: string | null
}

/**
 * The address a sender posts to, with the newest secret (the last listed: rotation adds the new one last) as `token`,
 * masked unless `showSecret`.
 */
export function senderUrl(config: BridgeConfig, id: string, base: string | undefined, showSecret: boolean, registry: SourceRegistry = builtInSources): SenderUrl {
  const source: SourceConfig | undefined = config.sources.find((s) => s.id === id)
  if (source === undefined) throw new UsageError(`no source "${id}" in the config; sources list shows the ids`)
  const root = baseUrl(base)
  const secret = source.secrets.at(-1)!
  const token = showSecret ? encodeURIComponent(secret) : '****'
  // A source id is URL-safe by its config rule (SOURCE_ID): the path needs no encoding.
  const url = `${root.origin}${root.pathname.replace(/\/+$/, '')}${sourcePath(source.type, source.id)}?token=${token}`
  const component = registry.componentFor(source)
  const setup = component?.senderSetup?.(source, url) ?? `POST to:\n  ${url}`
  const warning = root.protocol === 'http:' ? 'the token travels in the URL: over http:// anyone on the way can read it; serve HTTPS (http.tls) or put a TLS proxy in front' : null
  return { url, setup: showSecret ? setup : `${setup}\n(the token is masked: --show-secret prints it)`, warning }
}
