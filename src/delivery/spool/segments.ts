// Segment files of the spool: naming, listing, the read cursor, and the scan that finds (and cuts) a torn tail.
import { open, readdir, readFile, rename, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { FRAME_HEADER_BYTES, readFrame, type SpoolEntry } from './frame.js'
import { ensureDir } from './ensure-dir.js'

export interface Position {
  seq: number
  offset: number
}

export const SEGMENT_SUFFIX = '.seg'

export function segmentName(seq: number): string {
  return `${String(seq).padStart(20, '0')}${SEGMENT_SUFFIX}`
}

export async function listSegments(dir: string): Promise<{ seq: number; path: string; size: number }[]> {
  await ensureDir(dir)
  const names = (await readdir(dir)).filter((n) => /^\d{20}\.seg$/.test(n)).sort()
  return Promise.all(
    names.map(async (name) => {
      const path = join(dir, name)
      return { seq: Number(name.slice(0, 20)), path, size: (await stat(path)).size }
    }),
  )
}

const CURSOR_FILE = 'cursor.json'

export async function readCursor(dir: string): Promise<Position | undefined> {
  try {
    const parsed = JSON.parse(await readFile(join(dir, CURSOR_FILE), 'utf8')) as Partial<Position>
    if (Number.isSafeInteger(parsed.seq) && Number.isSafeInteger(parsed.offset)) return { seq: parsed.seq!, offset: parsed.offset! }
  } catch {
    // absent or unreadable: replay from the first segment (duplicates, never loss)
  }
  return undefined
}

/** Not fsynced on purpose: a cursor lost in a crash only means entries are delivered twice. */
export async function writeCursor(dir: string, position: Position): Promise<void> {
  const tmp = join(dir, `${CURSOR_FILE}.tmp`)
  await writeFile(tmp, JSON.stringify(position))
  await rename(tmp, join(dir, CURSOR_FILE))
}

export async function fsyncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r')
  try {
    await handle.sync()
  } finally {
    await handle.close()
  }
}

export interface ScanResult {
  entries: number
  /** Bytes of whole, valid frames from `from`. */
  validEnd: number
  receivedAtFirst: number | undefined
  problem?: { offset: number; reason: string }
}

/** Reads a whole segment from `from`, counting valid frames; stops at the first incomplete or corrupt one. */
export async function scanSegment(path: string, from: number, onEntry?: (entry: SpoolEntry) => void): Promise<ScanResult> {
  const data = await readFile(path)
  let offset = from
  let entries = 0
  let receivedAtFirst: number | undefined
  while (offset < data.length) {
    const frame = readFrame(data, offset)
    if (frame.kind !== 'entry') {
      const reason = frame.kind === 'corrupt' ? frame.reason : `incomplete frame (${data.length - offset} of at least ${FRAME_HEADER_BYTES} bytes)`
      return { entries, validEnd: offset, receivedAtFirst, problem: { offset, reason } }
    }
    receivedAtFirst ??= frame.entry.receivedAt
    onEntry?.(frame.entry)
    entries++
    offset = frame.next
  }
  return { entries, validEnd: offset, receivedAtFirst }
}
