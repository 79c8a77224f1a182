// Entries Kafka refuses for good, kept as spool frames in spool.dir/rejected/ so they neither block the spool nor get lost.
import { randomUUID } from 'node:crypto'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { encodeFrame, type SpoolEntry } from './frame.js'
import { fsyncDir } from './segments.js'
import { ensureDir } from './ensure-dir.js'

/** Writes the entries to a new file (never over another) and returns its path once durable. */
export async function setAside(spoolDir: string, entries: readonly SpoolEntry[]): Promise<string> {
  const dir = join(spoolDir, 'rejected')
  await ensureDir(dir)
  const file = join(dir, `${new Date().toISOString().replace(/[:.]/g, '-')}-${randomUUID().slice(0, 8)}.frames`)
  await writeFile(file, Buffer.concat(entries.map(encodeFrame)), { flush: true, flag: 'wx' })
  await fsyncDir(dir)
  return file
}
