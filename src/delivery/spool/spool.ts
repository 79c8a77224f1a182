// The durable local spool: append-only segments, group-committed fsync, bounded size, read and ack in order.
import { copyFile, open, truncate, unlink, type FileHandle } from 'node:fs/promises'
import { join } from 'node:path'
import { BridgeError, ErrorCodes, isBridgeError } from '../../errors.js'
import type { Logger } from '../../observability/logger.js'
import { lockSpool, type SpoolLock } from './lock.js'
import { encodeFrame, FRAME_HEADER_BYTES, readFrame, type SpoolEntry } from './frame.js'
import { fsyncDir, listSegments, readCursor, scanSegment, segmentName, writeCursor, type Position } from './segments.js'
import { ensureDir } from './ensure-dir.js'

export type { Position } from './segments.js'

export interface SpoolOptions {
  dir: string
  maxBytes: number
  /** A segment is closed for writing past this size; it is deleted once every entry in it is delivered. */
  segmentBytes?: number
  logger: Logger
}

export interface SpoolBatch {
  entries: SpoolEntry[]
  records: number
  bytes: number
  end: Position
}

export interface Spool {
  /** Recovers what a previous run left (cutting a torn tail) and opens for appending. */
  open(): Promise<void>
  /** Resolves once the entry is fsynced. Rejects with SPOOL_FULL or SPOOL_FAILED. */
  append(entry: SpoolEntry): Promise<void>
  /** Entries accepted and not yet acknowledged as delivered, including those still being written. */
  readonly entries: number
  readonly bytes: number
  /** Bytes on disk and being written: what maxBytes bounds. */
  readonly usedBytes: number
  /** The oldest undelivered entries that are durable, up to `maxRecords` records (at least one entry). */
  read(maxRecords: number): Promise<SpoolBatch | undefined>
  /** Marks a batch from read() delivered; deletes segments left with nothing to deliver. */
  ack(batch: SpoolBatch): Promise<void>
  /** Epoch ms of the oldest undelivered entry. */
  oldestReceivedAt(): Promise<number | undefined>
  close(): Promise<void>
}

interface Segment {
  seq: number
  path: string
  /** Durable bytes: everything below is fsynced. */
  size: number
}

interface PendingWrite {
  frame: Buffer
  resolve: () => void
  reject: (error: unknown) => void
}

const DEFAULT_SEGMENT_BYTES = 64 * 1024 * 1024
const READ_CHUNK_BYTES = 8 * 1024 * 1024

function spoolFailed(message: string, cause: unknown): BridgeError {
  return new BridgeError(ErrorCodes.SPOOL_FAILED, message, { cause })
}

export function createSpool(options: SpoolOptions): Spool {
  const { dir, maxBytes, logger } = options
  // Delivered bytes stay on disk until their segment goes: small segments keep that a small part of maxBytes.
  const segmentBytes = options.segmentBytes ?? Math.max(64 * 1024, Math.min(DEFAULT_SEGMENT_BYTES, Math.floor(maxBytes / 8)))
  const segments: Segment[] = []
  let active: { segment: Segment; handle: FileHandle } | undefined
  let cursor: Position = { seq: 0, offset: 0 }
  let entries = 0
  let undeliveredBytes = 0
  let diskBytes = 0
  let pending: PendingWrite[] = []
  let pendingBytes = 0
  let writing: Promise<void> | undefined
  let closed = true
  let nextSeq = 1
  let lock: SpoolLock | undefined

  async function openSegment(): Promise<{ segment: Segment; handle: FileHandle }> {
    const seq = nextSeq++
    const path = join(dir, segmentName(seq))
    const handle = await open(path, 'a')
    // The new file's directory entry must survive a crash as well as its bytes.
    await fsyncDir(dir)
    const segment = { seq, path, size: 0 }
    segments.push(segment)
    return { segment, handle }
  }

  async function writeBatch(batch: PendingWrite[]): Promise<void> {
    if (active === undefined || active.segment.size >= segmentBytes) {
      if (active !== undefined) await active.handle.close()
      active = await openSegment()
    }
    const { segment, handle } = active
    const frames = batch.map((w) => w.frame)
    const length = frames.reduce((n, f) => n + f.length, 0)
    const { bytesWritten } = await handle.writev(frames)
    if (bytesWritten !== length) throw new Error(`short write: ${bytesWritten} of ${length} bytes`)
    await handle.datasync()
    segment.size += length
    diskBytes += length
  }

  function drainWrites(): void {
    if (writing !== undefined || pending.length === 0) return
    const batch = pending
    pending = []
    const length = batch.reduce((n, w) => n + w.frame.length, 0)
    writing = writeBatch(batch).then(
      () => {
        pendingBytes -= length
        for (const w of batch) w.resolve()
      },
      (error: unknown) => {
        pendingBytes -= length
        entries -= batch.length
        undeliveredBytes -= length
        logger.error({ err: error, entries: batch.length, dir }, 'spool write failed: these events were not stored')
        // The file may hold part of this batch: cut it back to what is durable, and write on in a new segment.
        const broken = active
        active = undefined
        if (broken !== undefined) {
          void broken.handle
            .close()
            .catch(() => undefined)
            .then(() => truncate(broken.segment.path, broken.segment.size))
            .catch((cutError: unknown) => logger.warn({ err: cutError, path: broken.segment.path }, 'could not cut a failed write back; it is cut at the next start'))
        }
        for (const w of batch) w.reject(spoolFailed(`the spool could not write to ${dir}: ${(error as Error).message}`, error))
      },
    )
    void writing.finally(() => {
      writing = undefined
      drainWrites()
    })
  }

  async function readRegion(segment: Segment, offset: number, maxRecords: number): Promise<{ entries: SpoolEntry[]; records: number; end: number }> {
    const handle = await open(segment.path, 'r')
    try {
      let want = Math.min(READ_CHUNK_BYTES, segment.size - offset)
      for (;;) {
        const buffer = Buffer.allocUnsafe(want)
        const { bytesRead } = await handle.read(buffer, 0, want, offset)
        const data = buffer.subarray(0, bytesRead)
        const out: SpoolEntry[] = []
        let records = 0
        let at = 0
        while (at < data.length && records < maxRecords) {
          const frame = readFrame(data, at)
          if (frame.kind === 'corrupt') {
            throw spoolFailed(`spool segment ${segment.path} is corrupt at ${offset + at}: ${frame.reason}`, undefined)
          }
          if (frame.kind === 'incomplete') break
          if (out.length > 0 && records + frame.entry.records.length > maxRecords) break
          out.push(frame.entry)
          records += frame.entry.records.length
          at = frame.next
        }
        if (out.length > 0 || data.length < FRAME_HEADER_BYTES) return { entries: out, records, end: offset + at }
        // The first frame alone is larger than the chunk.
        want = Math.min(segment.size - offset, FRAME_HEADER_BYTES + data.readUInt32BE(0))
      }
    } finally {
      await handle.close()
    }
  }

  async function dropDelivered(): Promise<void> {
    while (segments.length > 0) {
      const first = segments[0]!
      const isActive = active?.segment === first
      const done = first.seq < cursor.seq || (first.seq === cursor.seq && cursor.offset >= first.size)
      if (!done) return
      // The active segment goes too once everything is delivered and nothing is being written to it.
      if (isActive && (writing !== undefined || pending.length > 0)) return
      const handle = isActive ? active!.handle : undefined
      if (isActive) active = undefined
      segments.shift()
      diskBytes -= first.size
      const next = segments[0]
      cursor = next === undefined ? { seq: first.seq + 1, offset: 0 } : { seq: next.seq, offset: 0 }
      await handle?.close()
      await unlink(first.path).catch((error: unknown) => logger.warn({ err: error, path: first.path }, 'could not delete a delivered spool segment'))
    }
  }

  /** Scans what a previous run left: cuts a torn tail, sets a corrupt middle aside, counts what is undelivered. */
  async function recover(): Promise<void> {
    const found = await listSegments(dir)
    const saved = await readCursor(dir)
    segments.length = 0
    entries = 0
    undeliveredBytes = 0
    diskBytes = 0
    cursor = saved ?? { seq: found[0]?.seq ?? 1, offset: 0 }
    for (const [index, file] of found.entries()) {
      if (file.seq < cursor.seq) {
        await unlink(file.path)
        continue
      }
      const from = file.seq === cursor.seq ? Math.min(cursor.offset, file.size) : 0
      const scan = await scanSegment(file.path, from)
      let size = file.size
      if (scan.problem !== undefined) {
        if (index === found.length - 1) {
          // The last segment's tail is where a crash tears a write: cut it, keep every whole entry before it.
          logger.warn({ path: file.path, at: scan.problem.offset, cut: file.size - scan.validEnd, reason: scan.problem.reason }, 'spool: cut a torn last entry')
          await truncate(file.path, scan.validEnd)
          size = scan.validEnd
        } else {
          logger.error(
            { path: file.path, at: scan.problem.offset, reason: scan.problem.reason, kept: `${file.path}.corrupt` },
            'spool: segment corrupt in the middle; entries after this point were set aside, not replayed',
          )
          // Copy first, cut second: a crash in between leaves both files whole.
          await copyFile(file.path, `${file.path}.corrupt`)
          await truncate(file.path, scan.validEnd)
          size = scan.validEnd
        }
      }
      segments.push({ seq: file.seq, path: file.path, size })
      entries += scan.entries
      undeliveredBytes += size - from
      diskBytes += size
    }
    nextSeq = Math.max(cursor.seq, (found.at(-1)?.seq ?? 0) + 1)
    if (segments.length === 0) cursor = { seq: nextSeq, offset: 0 }
    if (entries > 0) logger.info({ entries, bytes: undeliveredBytes, segments: segments.length }, 'spool holds undelivered events from a previous run; they go first')
    }

  return {
    get entries() {
      return entries
    },
    get bytes() {
      return undeliveredBytes
    },
    get usedBytes() {
      return diskBytes + pendingBytes
    },

    async open() {
      // Before anything in the folder is read or cut: another bridge may be writing there.
      lock = await ensureDir(dir)
        .then(() => lockSpool(dir))
        .catch((error: unknown) => {
          if (isBridgeError(error)) throw error
          throw spoolFailed(`cannot use the spool folder ${dir}: ${(error as Error).message}`, error)
        })
      try {
        await recover()
      } catch (error) {
        await lock.release()
        lock = undefined
        throw error
      }
      closed = false
    },

    append(entry) {
      if (closed) return Promise.reject(new BridgeError(ErrorCodes.SHUTTING_DOWN, 'the spool is closed'))
      const frame = encodeFrame(entry)
      if (diskBytes + pendingBytes + frame.length > maxBytes) {
        return Promise.reject(
          new BridgeError(ErrorCodes.SPOOL_FULL, `the spool is full (${diskBytes + pendingBytes} of ${maxBytes} bytes in ${dir}); the event was not stored`),
        )
      }
      pendingBytes += frame.length
      undeliveredBytes += frame.length
      entries++
      return new Promise<void>((resolve, reject) => {
        pending.push({ frame, resolve, reject })
        drainWrites()
      })
    },

    async read(maxRecords) {
      maxRecords = Math.max(1, maxRecords)
      for (const segment of segments) {
        if (segment.seq < cursor.seq) continue
        const offset = segment.seq === cursor.seq ? cursor.offset : 0
        if (offset >= segment.size) continue
        const region = await readRegion(segment, offset, maxRecords)
        if (region.entries.length === 0) return undefined
        return { entries: region.entries, records: region.records, bytes: region.end - offset, end: { seq: segment.seq, offset: region.end } }
      }
      return undefined
    },

    async ack(batch) {
      cursor = batch.end
      entries -= batch.entries.length
      undeliveredBytes -= batch.bytes
      await dropDelivered()
      await writeCursor(dir, cursor)
    },

    async oldestReceivedAt() {
      const batch = await this.read(1)
      return batch?.entries[0]?.receivedAt
    },

    async close() {
      closed = true
      while (writing !== undefined || pending.length > 0) {
        drainWrites()
        await writing?.catch(() => undefined)
      }
      if (active !== undefined) {
        await active.handle.close()
        active = undefined
      }
      await lock?.release()
      lock = undefined
    },
  }
}
