// Reload when a file changes, for where no signal comes: Kubernetes replaces a mounted ConfigMap or Secret in place (a
// symlink swap), so files are read and compared at an interval rather than watched through inotify.
import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import type { BridgeConfig } from '../config/schema.js'

/** The config file and every file the config names that a reload re-reads: sources' secrets files, the HTTPS certificate. */
export function watchedFiles(configFile: string | undefined, config: BridgeConfig): string[] {
  const files = [
    ...(configFile === undefined ? [] : [configFile]),
    ...config.sources.flatMap((s) => (s.secretsFile === undefined ? [] : [s.secretsFile])),
    ...(config.http.tls === undefined ? [] : [config.http.tls.certFile, config.http.tls.keyFile]),
  ]
  return [...new Set(files)]
}

/** A file's content as a digest ("missing" when it cannot be read: a swap in progress is a change like another). */
function digest(file: string): string {
  try {
    return createHash('sha256').update(readFileSync(file)).digest('hex')
  } catch {
    return 'missing'
  }
}

export interface FileWatch {
  stop(): void
}

/**
 * Calls `onChange` once per tick in which any of `files()` differs from what it held at the previous tick. The list
 * is asked for at each tick (a reload may name other files); a file newly on it is compared from then on.
 */
export function watchFiles(files: () => readonly string[], intervalMs: number, onChange: () => void): FileWatch {
  let seen = new Map(files().map((f) => [f, digest(f)]))
  const timer = setInterval(() => {
    const now = new Map(files().map((f) => [f, digest(f)]))
    const changed = [...now].some(([file, hash]) => seen.has(file) && seen.get(file) !== hash)
    seen = now
    if (changed) onChange()
  }, intervalMs)
  timer.unref()
  return { stop: () => clearInterval(timer) }
}
