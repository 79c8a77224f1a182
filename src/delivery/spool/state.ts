// What the spool's parts share: its segments, the one being written, the replay cursor, and its counters.
import type { FileHandle } from 'node:fs/promises'
import { BridgeError, ErrorCodes } from '../../errors.js'
import type { Logger } from '../../observability/logger.js'
import type { Position } from './segments.js'

export interface Segment {
  seq: number
  path: string
  /** Durable bytes: everything below is fsynced. */
  size: number
}

export interface SpoolState {
  readonly dir: string
  /** A segment is closed for writing past this size; it is deleted once every entry in it is delivered. */
  readonly segmentBytes: number
  readonly logger: Logger
  /** Undelivered segments, oldest first; the last one may be `active`. */
  segments: Segment[]
  active: { segment: Segment; handle: FileHandle } | undefined
  /** Where replay goes on: everything before it was delivered. */
  cursor: Position
  nextSeq: number
  /** Entries accepted and not delivered, including those being written. */
  entries: number
  undeliveredBytes: number
  /** Bytes on disk (durable), and being written: together what maxBytes bounds. */
  diskBytes: number
  pendingBytes: number
}

export function createSpoolState(dir: string, segmentBytes: number, logger: Logger): SpoolState {
  return { dir, segmentBytes, logger, segments: [], active: undefined, cursor: { seq: 0, offset: 0 }, nextSeq: 1, entries: 0, undeliveredBytes: 0, diskBytes: 0, pendingBytes: 0 }
}

export function spoolFailed(message: string, cause: unknown): BridgeError {
  return new BridgeError(ErrorCodes.SPOOL_FAILED, message, { cause })
}
