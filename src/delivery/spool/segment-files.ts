// The spool's segment files over their life: recovered at start-up, opened for writing, deleted once delivered.
import { copyFile, open, truncate, unlink } from 'node:fs/promises'
import { join } from 'node:path'
import { fsyncDir, listSegments, readCursor, scanSegment, segmentName } from './segments.js'
import type { SpoolEntry } from './frame.js'
import type { Segment, SpoolState } from './state.js'

/** A new segment for writing, its directory entry fsynced: the file must survive a crash as well as its bytes. */
export async function openSegment(state: SpoolState): Promise<NonNullable<SpoolState['active']>> {
  const seq = state.nextSeq++
  const path = join(state.dir, segmentName(seq))
  const handle = await open(path, 'a')
  try {
    await fsyncDir(state.dir)
  } catch (error) {
    // A segment whose name may not survive a crash is not used: no handle or file is left behind for it.
    await handle.close().catch(() => undefined)
    await unlink(path).catch(() => undefined)
    throw error
  }
  const segment: Segment = { seq, path, size: 0 }
  state.segments.push(segment)
  return { segment, handle }
}

/**
 * Scans what a previous run left: deletes segments before the cursor, cuts a torn tail of the last segment,
 * sets a corrupt middle aside (a .corrupt copy), and counts what is undelivered.
 */
export async function recoverSegments(state: SpoolState, onEntry?: (entry: SpoolEntry) => void): Promise<void> {
  const { dir, logger } = state
  const found = await listSegments(dir)
  const saved = await readCursor(dir)
  state.segments = []
  state.entries = 0
  state.undeliveredBytes = 0
  state.diskBytes = 0
  state.cursor = saved ?? { seq: found[0]?.seq ?? 1, offset: 0 }
  for (const [index, file] of found.entries()) {
    if (file.seq < state.cursor.seq) {
      await unlink(file.path)
      continue
    }
    const from = file.seq === state.cursor.seq ? Math.min(state.cursor.offset, file.size) : 0
    const scan = await scanSegment(file.path, from, onEntry)
    let size = file.size
    if (scan.problem !== undefined) {
      if (index === found.length - 1) {
        // The last segment's tail is where a crash tears a write: cut it, keep every whole entry before it.
        logger.warn({ path: file.path, at: scan.problem.offset, cut: file.size - scan.validEnd, reason: scan.problem.reason }, 'spool: cut a torn last entry')
      } else {
        logger.error(
          { path: file.path, at: scan.problem.offset, reason: scan.problem.reason, kept: `${file.path}.corrupt` },
          'spool: segment corrupt in the middle; entries after this point were set aside, not replayed',
        )
        // Copy first, cut second: a crash in between leaves both files whole.
        await copyFile(file.path, `${file.path}.corrupt`)
      }
      await truncate(file.path, scan.validEnd)
      size = scan.validEnd
    }
    state.segments.push({ seq: file.seq, path: file.path, size })
    state.entries += scan.entries
    state.undeliveredBytes += size - from
    state.diskBytes += size
  }
  state.nextSeq = Math.max(state.cursor.seq, (found.at(-1)?.seq ?? 0) + 1)
  if (state.segments.length === 0) state.cursor = { seq: state.nextSeq, offset: 0 }
  if (state.entries > 0) {
    logger.info({ entries: state.entries, bytes: state.undeliveredBytes, segments: state.segments.length }, 'spool holds undelivered events from a previous run; they go first')
  }
}

/** Deletes segments whose every entry is delivered; the active one only when nothing is being written to it. */
export async function dropDelivered(state: SpoolState, writing: () => boolean): Promise<void> {
  while (state.segments.length > 0) {
    const first = state.segments[0]!
    const { cursor } = state
    const isActive = state.active?.segment === first
    const done = first.seq < cursor.seq || (first.seq === cursor.seq && cursor.offset >= first.size)
    if (!done) return
    if (isActive && writing()) return
    const handle = isActive ? state.active!.handle : undefined
    if (isActive) state.active = undefined
    state.segments.shift()
    state.diskBytes -= first.size
    const next = state.segments[0]
    state.cursor = next === undefined ? { seq: first.seq + 1, offset: 0 } : { seq: next.seq, offset: 0 }
    await handle?.close()
    await unlink(first.path).catch((error: unknown) => state.logger.warn({ err: error, path: first.path }, 'could not delete a delivered spool segment'))
  }
}
