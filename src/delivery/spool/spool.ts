// The durable local spool: one process per folder, append-only segments, group-committed fsync, bounded size, read and ack in order.
import { BridgeError, ErrorCodes, isBridgeError } from '../../errors.js'
import type { Logger } from '../../observability/logger.js'
import { createAppender } from './appender.js'
import { createSpoolBudget, type SpoolBudget } from './budget.js'
import { ensureDir } from './ensure-dir.js'
import { encodeFrame, FRAME_HEADER_BYTES, MAX_FRAME_PAYLOAD, type SpoolEntry } from './frame.js'
import { lockSpool, type SpoolLock } from './lock.js'
import { readBatch, type SpoolBatch } from './reader.js'
import { dropDelivered, recoverSegments } from './segment-files.js'
import { writeCursor } from './segments.js'
import { createSpoolState, spoolFailed } from './state.js'

export type { Position } from './segments.js'
export type { SpoolBatch } from './reader.js'

export interface SpoolOptions {
  dir: string
  maxBytes: number
  /** A segment is closed for writing past this size; it is deleted once every entry in it is delivered. */
  segmentBytes?: number
  logger: Logger
  /** A maxBytes shared with other spools (the held lanes beside the main one); by default the spool's own. */
  budget?: SpoolBudget
  /** False for a spool inside another's folder, whose OS lock covers it (a held lane). */
  lock?: boolean
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
  /** Records of `topic` accepted and not yet acknowledged as delivered: a newer record of it must queue behind. */
  pendingOf(topic: string): number
  /** The oldest undelivered entries that are durable, up to `maxRecords` records (at least one entry). */
  read(maxRecords: number): Promise<SpoolBatch | undefined>
  /** Marks a batch from read() delivered; deletes segments left with nothing to deliver. */
  ack(batch: SpoolBatch): Promise<void>
  /** Epoch ms of the oldest undelivered entry. */
  oldestReceivedAt(): Promise<number | undefined>
  close(): Promise<void>
}

const DEFAULT_SEGMENT_BYTES = 64 * 1024 * 1024

export function createSpool(options: SpoolOptions): Spool {
  const { dir, maxBytes, logger } = options
  // Delivered bytes stay on disk until their segment goes: small segments keep that a small part of maxBytes.
  const segmentBytes = options.segmentBytes ?? Math.max(64 * 1024, Math.min(DEFAULT_SEGMENT_BYTES, Math.floor(maxBytes / 8)))
  const state = createSpoolState(dir, segmentBytes, logger)
  const appender = createAppender(state)
  let closed = true
  let lock: SpoolLock | undefined
  const pending = new Map<string, number>()
  const count = (entry: SpoolEntry, sign: 1 | -1): void => {
    for (const r of entry.records) {
      const left = (pending.get(r.topic) ?? 0) + sign
      if (left === 0) pending.delete(r.topic)
      else pending.set(r.topic, left)
    }
  }

  const budget = options.budget ?? createSpoolBudget(maxBytes)
  const spool: Spool = {
    get entries() {
      return state.entries
    },
    get bytes() {
      return state.undeliveredBytes
    },
    get usedBytes() {
      return state.diskBytes + state.pendingBytes
    },
    pendingOf: (topic) => pending.get(topic) ?? 0,

    async open() {
      // Before anything in the folder is read or cut: another bridge may be writing there.
      try {
        await ensureDir(dir)
        if (options.lock !== false) lock = await lockSpool(dir)
      } catch (error) {
        if (isBridgeError(error)) throw error
        throw spoolFailed(`cannot use the spool folder ${dir}: ${(error as Error).message}`, error)
      }
      pending.clear()
      try {
        await recoverSegments(state, (entry) => count(entry, 1))
      } catch (error) {
        await lock?.release()
        lock = undefined
        throw error
      }
      closed = false
    },

    append(entry) {
      if (closed) return Promise.reject(new BridgeError(ErrorCodes.SHUTTING_DOWN, 'the spool is closed'))
      const frame = encodeFrame(entry)
      if (frame.length - FRAME_HEADER_BYTES > MAX_FRAME_PAYLOAD) {
        return Promise.reject(new BridgeError(ErrorCodes.SPOOL_FAILED, `the entry takes ${frame.length} bytes, more than the spool can read back (${MAX_FRAME_PAYLOAD}); it was not stored`))
      }
      const used = budget.usedBytes()
      if (used + frame.length > maxBytes) {
        return Promise.reject(new BridgeError(ErrorCodes.SPOOL_FULL, `the spool is full (${used} of ${maxBytes} bytes in ${dir}); the event was not stored`))
      }
      state.pendingBytes += frame.length
      state.undeliveredBytes += frame.length
      state.entries++
      count(entry, 1)
      return appender.append(frame).catch((error: unknown) => {
        count(entry, -1)
        throw error
      })
    },

    read(maxRecords) {
      return readBatch(state, maxRecords)
    },

    async ack(batch) {
      for (const entry of batch.entries) count(entry, -1)
      state.cursor = batch.end
      state.entries -= batch.entries.length
      state.undeliveredBytes -= batch.bytes
      await dropDelivered(state, () => appender.busy)
      await writeCursor(dir, state.cursor)
    },

    async oldestReceivedAt() {
      const batch = await this.read(1)
      return batch?.entries[0]?.receivedAt
    },

    async close() {
      closed = true
      await appender.flush()
      if (state.active !== undefined) {
        await state.active.handle.close()
        state.active = undefined
      }
      await lock?.release()
      lock = undefined
    },
  }
  budget.add(spool)
  return spool
}
