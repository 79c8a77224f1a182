// Entries Kafka refuses for good, kept as spool frames in spool.dir/rejected/ so they neither block the spool nor get lost;
// beside each, a .json note of why, for `spool rejected` to list and `spool rejected --replay` to bring back.
import { randomUUID } from 'node:crypto'
import { readdir, readFile, unlink, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { encodeFrame, type SpoolEntry } from './frame.js'
import { fsyncDir, scanSegment } from './segments.js'
import { ensureDir } from './ensure-dir.js'

export const REJECTED_DIR = 'rejected'
const FRAMES = '.frames'

export interface SetAsideNote {
  reason: string
  /** The error code (KAFKA_REJECTED…), when it had one. */
  code: string | null
  setAsideAt: string
}

export interface SetAsideFile {
  /** Absolute path of the .frames file. */
  file: string
  entries: SpoolEntry[]
  /** Why it was set aside; null for a file written before notes were kept (or whose note was lost). */
  note: SetAsideNote | null
  /** A frame that could not be read (a damaged file): what was read before it is in `entries`. */
  problem?: string
}

/** Writes the entries to a new file (never over another), then its note, and returns the file's path once durable. */
export async function setAside(spoolDir: string, entries: readonly SpoolEntry[], error?: unknown): Promise<string> {
  const dir = join(spoolDir, REJECTED_DIR)
  await ensureDir(dir)
  const name = `${new Date().toISOString().replace(/[:.]/g, '-')}-${randomUUID().slice(0, 8)}`
  const file = join(dir, `${name}${FRAMES}`)
  await writeFile(file, Buffer.concat(entries.map(encodeFrame)), { flush: true, flag: 'wx' })
  const note: SetAsideNote = {
    reason: (error as Error | undefined)?.message ?? String(error ?? 'not recorded'),
    code: typeof (error as { code?: unknown } | undefined)?.code === 'string' ? (error as { code: string }).code : null,
    setAsideAt: new Date().toISOString(),
  }
  await writeFile(join(dir, `${name}.json`), `${JSON.stringify(note)}\n`, { flush: true, flag: 'wx' })
  await fsyncDir(dir)
  return file
}

/** Every set-aside file, oldest first (names start with the time), with its entries and note. */
export async function readSetAside(spoolDir: string): Promise<SetAsideFile[]> {
  const dir = join(spoolDir, REJECTED_DIR)
  let names: string[]
  try {
    names = (await readdir(dir)).filter((n) => n.endsWith(FRAMES)).sort()
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return []
    throw error
  }
  const files: SetAsideFile[] = []
  for (const name of names) {
    const file = join(dir, name)
    const entries: SpoolEntry[] = []
    const scan = await scanSegment(file, 0, (entry) => entries.push(entry))
    const problem = scan.problem === undefined ? undefined : `${scan.problem.reason} at byte ${scan.problem.offset}`
    const note = await readFile(noteOf(file), 'utf8').then(
      (text) => JSON.parse(text) as SetAsideNote,
      () => null,
    )
    files.push({ file, entries, note, ...(problem === undefined ? {} : { problem }) })
  }
  return files
}

/** Removes a set-aside file and its note (once every record of it is on Kafka). */
export async function removeSetAside(file: string): Promise<void> {
  await unlink(file)
  await unlink(noteOf(file)).catch(() => undefined)
  await fsyncDir(join(file, '..'))
}

function noteOf(file: string): string {
  return `${file.slice(0, -FRAMES.length)}.json`
}
