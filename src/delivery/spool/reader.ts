// Reading the spool in order from the replay cursor: the oldest durable entries, up to a number of records.
import { open } from 'node:fs/promises'
import { FRAME_HEADER_BYTES, readFrame, type SpoolEntry } from './frame.js'
import type { Position } from './segments.js'
import { spoolFailed, type Segment, type SpoolState } from './state.js'

export interface SpoolBatch {
  entries: SpoolEntry[]
  records: number
  bytes: number
  end: Position
}

const READ_CHUNK_BYTES = 8 * 1024 * 1024

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
        if (frame.kind === 'corrupt') throw spoolFailed(`spool segment ${segment.path} is corrupt at ${offset + at}: ${frame.reason}`, undefined)
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

/** The oldest undelivered durable entries, up to `maxRecords` records (at least one entry), or undefined. */
export async function readBatch(state: SpoolState, maxRecords: number): Promise<SpoolBatch | undefined> {
  const { cursor } = state
  for (const segment of state.segments) {
    if (segment.seq < cursor.seq) continue
    const offset = segment.seq === cursor.seq ? cursor.offset : 0
    if (offset >= segment.size) continue
    const region = await readRegion(segment, offset, Math.max(1, maxRecords))
    if (region.entries.length === 0) return undefined
    return { entries: region.entries, records: region.records, bytes: region.end - offset, end: { seq: segment.seq, offset: region.end } }
  }
  return undefined
}
