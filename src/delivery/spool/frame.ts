// One spool entry on disk: [u32 length][u32 crc32 of payload][payload], so a torn or corrupt tail is detected.
import { crc32 } from 'node:zlib'

export const FRAME_HEADER_BYTES = 8
/** No single request comes near this; a larger length field means garbage, not a huge entry. */
export const MAX_FRAME_PAYLOAD = 256 * 1024 * 1024

/**
 * The largest frame a request can need: a DV2000 record holds its message twice (typed and as sent) and a dead
 * letter the whole body; a Servio record's headers, key and body take well under 1 KiB.
 */
export function largestFrameBytes(bodyLimitBytes: number, maxRecordsPerRequest: number): number {
  return Math.max(3 * bodyLimitBytes, maxRecordsPerRequest * 1024) + 64 * 1024
}

export interface SpooledRecord {
  topic: string
  key: string
  headers: Record<string, string>
  /** SHA-256 (hex) of the Avro schema text the body was written with. */
  schema: string
  /** Avro binary, without the wire-format header: the schema id is resolved at delivery. */
  body: Buffer
}

export interface SpoolEntry {
  /** Epoch ms when the request was received. */
  receivedAt: number
  records: SpooledRecord[]
}

interface Meta {
  t: number
  r: { topic: string; key: string; headers: Record<string, string>; schema: string; len: number }[]
}

/** payload = [u32 meta length][meta JSON][record bodies, concatenated] */
export function encodeFrame(entry: SpoolEntry): Buffer {
  const meta: Meta = {
    t: entry.receivedAt,
    r: entry.records.map((r) => ({ topic: r.topic, key: r.key, headers: r.headers, schema: r.schema, len: r.body.length })),
  }
  const metaBytes = Buffer.from(JSON.stringify(meta), 'utf8')
  let bodies = 0
  for (const r of entry.records) bodies += r.body.length
  const payloadLength = 4 + metaBytes.length + bodies
  const frame = Buffer.allocUnsafe(FRAME_HEADER_BYTES + payloadLength)
  frame.writeUInt32BE(payloadLength, 0)
  let at = FRAME_HEADER_BYTES
  frame.writeUInt32BE(metaBytes.length, at)
  at += 4
  at += metaBytes.copy(frame, at)
  for (const r of entry.records) at += r.body.copy(frame, at)
  frame.writeUInt32BE(crc32(frame.subarray(FRAME_HEADER_BYTES)), 4)
  return frame
}

export type FrameRead =
  | { kind: 'entry'; entry: SpoolEntry; next: number }
  /** Fewer bytes than the frame needs: the end of the data, or a write cut short. */
  | { kind: 'incomplete' }
  /** The bytes are there but wrong: a torn write that reused the space, or disk corruption. */
  | { kind: 'corrupt'; reason: string }

export function readFrame(buffer: Buffer, offset: number): FrameRead {
  if (buffer.length - offset < FRAME_HEADER_BYTES) return { kind: 'incomplete' }
  const length = buffer.readUInt32BE(offset)
  if (length < 4 || length > MAX_FRAME_PAYLOAD) return { kind: 'corrupt', reason: `impossible frame length ${length}` }
  const start = offset + FRAME_HEADER_BYTES
  if (buffer.length - start < length) return { kind: 'incomplete' }
  const payload = buffer.subarray(start, start + length)
  if (crc32(payload) !== buffer.readUInt32BE(offset + 4)) return { kind: 'corrupt', reason: 'checksum mismatch' }
  try {
    const metaLength = payload.readUInt32BE(0)
    const meta = JSON.parse(payload.subarray(4, 4 + metaLength).toString('utf8')) as Meta
    let at = 4 + metaLength
    const records = meta.r.map((r) => {
      const body = Buffer.from(payload.subarray(at, at + r.len))
      at += r.len
      return { topic: r.topic, key: r.key, headers: r.headers, schema: r.schema, body }
    })
    return { kind: 'entry', entry: { receivedAt: meta.t, records }, next: start + length }
  } catch (error) {
    return { kind: 'corrupt', reason: `unreadable entry: ${(error as Error).message}` }
  }
}
