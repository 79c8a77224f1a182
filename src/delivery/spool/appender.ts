// Appending with group commit: requests that arrive while a write is in flight share the next writev and fdatasync.
import { openSegment } from './segment-files.js'
import { spoolFailed, type SpoolState } from './state.js'

interface PendingWrite {
  frame: Buffer
  resolve: () => void
  reject: (error: unknown) => void
}

export interface Appender {
  /** Resolves once the frame is on disk and fsynced; the state's counters are the caller's. */
  append(frame: Buffer): Promise<void>
  /** True while a write is in flight or queued. */
  readonly busy: boolean
  /** Write+fsync rounds so far: concurrent appends share one. */
  readonly syncs: number
  /** Waits until everything queued is written (or failed). */
  flush(): Promise<void>
}

export function createAppender(state: SpoolState): Appender {
  const { dir, logger } = state
  let pending: PendingWrite[] = []
  let writing: Promise<void> | undefined
  let syncs = 0

  async function writeBatch(batch: PendingWrite[]): Promise<void> {
    if (state.active === undefined || state.active.segment.size >= state.segmentBytes) {
      if (state.active !== undefined) await state.active.handle.close()
      state.active = await openSegment(state)
    }
    const { segment, handle } = state.active
    const frames = batch.map((w) => w.frame)
    const length = frames.reduce((n, f) => n + f.length, 0)
    const { bytesWritten } = await handle.writev(frames)
    if (bytesWritten !== length) throw new Error(`short write: ${bytesWritten} of ${length} bytes`)
    await handle.datasync()
    syncs++
    segment.size += length
    state.diskBytes += length
  }

  /**
   * The file may hold part of the failed batch: cut it back to what is durable and go on writing there, so that a
   * disk that stays full does not leave a new segment file behind per failed group commit. A file that cannot be
   * cut is let go (the next start cuts it) and the next write opens a new one.
   */
  async function cutBack(): Promise<void> {
    const current = state.active
    if (current === undefined) return
    try {
      await current.handle.truncate(current.segment.size)
    } catch (cutError) {
      state.active = undefined
      await current.handle.close().catch(() => undefined)
      logger.warn({ err: cutError, path: current.segment.path }, 'could not cut a failed write back; it is cut at the next start')
    }
  }

  function failed(batch: PendingWrite[], length: number, error: unknown): void {
    state.entries -= batch.length
    state.undeliveredBytes -= length
    logger.error({ err: error, entries: batch.length, dir }, 'spool write failed: these events were not stored')
    for (const w of batch) w.reject(spoolFailed(`the spool could not write to ${dir}: ${(error as Error).message}`, error))
  }

  function drain(): void {
    if (writing !== undefined || pending.length === 0) return
    const batch = pending
    pending = []
    const length = batch.reduce((n, w) => n + w.frame.length, 0)
    writing = writeBatch(batch).then(
      () => {
        state.pendingBytes -= length
        for (const w of batch) w.resolve()
      },
      async (error: unknown) => {
        state.pendingBytes -= length
        failed(batch, length, error)
        await cutBack()
      },
    )
    void writing.finally(() => {
      writing = undefined
      drain()
    })
  }

  return {
    get busy() {
      return writing !== undefined || pending.length > 0
    },
    get syncs() {
      return syncs
    },
    append(frame) {
      return new Promise<void>((resolve, reject) => {
        pending.push({ frame, resolve, reject })
        drain()
      })
    },
    async flush() {
      while (writing !== undefined || pending.length > 0) {
        drain()
        await writing?.catch(() => undefined)
      }
    },
  }
}
