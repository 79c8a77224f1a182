// Shared by the spool, drainer and deliverer tests: temp folders on disk, entries that say which they are, reading a spool out.
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import type { SpoolEntry } from '../../../src/delivery/spool/frame.js'
import { createSpool, type Spool, type SpoolOptions } from '../../../src/delivery/spool/spool.js'
import { createLogger, type Logger } from '../../../src/observability/logger.js'

export const HASH = 'c'.repeat(64)

/** Temp folders made by a test file; `cleanup` (in afterEach) removes them all. */
export function tempDirs() {
  const made: string[] = []
  return {
    async make(prefix = 'spool-'): Promise<string> {
      const dir = await mkdtemp(join(tmpdir(), `hkb-${prefix}`))
      made.push(dir)
      return dir
    },
    async cleanup(): Promise<void> {
      await Promise.all(made.splice(0).map((dir) => rm(dir, { recursive: true, force: true })))
    },
  }
}

/** Real spools on temp folders; `cleanup` (in afterEach) closes them and removes the folders. */
export function spoolsOnDisk(defaults: Partial<SpoolOptions> = {}) {
  const dirs = tempDirs()
  const opened: Spool[] = []
  return {
    dirs,
    async open(dir: string, options: Partial<SpoolOptions> = {}): Promise<Spool> {
      const spool = createSpool({ dir, maxBytes: 64 * 1024 * 1024, logger: silent(), ...defaults, ...options })
      opened.push(spool)
      await spool.open()
      return spool
    },
    async cleanup(): Promise<void> {
      await Promise.all(opened.splice(0).map((s) => s.close().catch(() => undefined)))
      await dirs.cleanup()
    },
  }
}

/** Entry `n`: its key, header and body all say `n`, so a read-back proves which entry it is. */
export function entry(n: number, bodyBytes = 32): SpoolEntry {
  return {
    receivedAt: 1_700_000_000_000 + n,
    records: [{ topic: 'dv2000.hospitality', key: `room-${n % 7}`, headers: { event_id: `e-${n}` }, schema: HASH, body: Buffer.alloc(bodyBytes, n % 251) }],
  }
}

export const idsOf = (entries: readonly SpoolEntry[]): string[] => entries.flatMap((e) => e.records.map((r) => r.headers['event_id']!))
export const ids = (from: number, to: number): string[] => Array.from({ length: to - from }, (_, i) => `e-${from + i}`)

/** Reads and acks everything, in batches of `maxRecords`; returns the event ids in the order read. */
export async function drainAll(spool: Spool, maxRecords = 1000): Promise<string[]> {
  const out: string[] = []
  for (;;) {
    const batch = await spool.read(maxRecords)
    if (batch === undefined) return out
    out.push(...idsOf(batch.entries))
    await spool.ack(batch)
  }
}

export const silent = (): Logger => createLogger('silent')

/** A logger that keeps its lines, for assertions on what was logged. */
export function capturingLogger(): { logger: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = []
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line.trim() !== '') lines.push(JSON.parse(line) as Record<string, unknown>)
      done()
    },
  })
  return { logger: createLogger('debug', destination), lines }
}
