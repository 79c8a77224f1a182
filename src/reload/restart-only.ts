// Which keys a live reload may change, and which changes only a restart can make (SPEC §2 "Live reload").
import type { BridgeConfig } from '../config/schema.js'

/**
 * What a reload applies: the sources (secrets and their files, filters, allow-lists, rate limits, topic overrides),
 * the HTTPS certificate and key (re-read, same paths or new), the log level, and whether files are watched. Everything else
 * is fixed by what the process opened: the port, the spool's lock, the Kafka and registry clients and their
 * credentials, the topics' names.
 */
const RELOADABLE = ['sources', 'http.tls', 'log.level', 'reload.watch'] as const

const reloadable = (path: string): boolean => RELOADABLE.some((key) => path === key || path.startsWith(`${key}.`))

function changes(current: unknown, next: unknown, path: string, out: string[]): void {
  if (reloadable(path)) return
  const bothObjects = typeof current === 'object' && current !== null && typeof next === 'object' && next !== null
  if (!bothObjects || Array.isArray(current) || Array.isArray(next)) {
    if (JSON.stringify(current) !== JSON.stringify(next)) out.push(path)
    return
  }
  const keys = new Set([...Object.keys(current), ...Object.keys(next)])
  for (const key of [...keys].sort()) changes((current as Record<string, unknown>)[key], (next as Record<string, unknown>)[key], path === '' ? key : `${path}.${key}`, out)
}

/** The keys whose value differs between the running config and a new one and that only a restart can change. */
export function restartOnlyChanges(current: BridgeConfig, next: BridgeConfig): string[] {
  const out: string[] = []
  changes(current, next, '', out)
  // A new certificate is reloadable; serving HTTPS or plain HTTP is the listening socket's, fixed at start-up.
  if ((current.http.tls === undefined) !== (next.http.tls === undefined)) out.push('http.tls')
  return out.sort()
}
