// kafkajs 2.2.4's record encoder replaced by one that writes each record into one buffer of its exact size.
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)

/** What kafkajs passes its record encoder (protocol/requests/produce/v3/request.js): a message and its deltas. */
export interface RecordFields {
  offsetDelta?: number
  timestampDelta?: number
  key?: unknown
  value?: unknown
  headers?: Record<string, unknown>
}

/** kafkajs's Encoder, as far as a record batch reads it (writeEncoderArray: `buf` and `buffer`). */
interface Encoder {
  buf: Buffer
  offset: number
  readonly buffer: Buffer
}

const RECORD_MODULE = require.resolve('kafkajs/src/protocol/recordBatch/record/v0/index.js')
const EncoderClass = require('kafkajs/src/protocol/encoder.js') as { prototype: Encoder }

// Loaded afresh: where this module was evaluated before in the process, the cache holds that evaluation's encoder.
delete require.cache[RECORD_MODULE]
/** kafkajs's own record encoder: the reference the tests compare with, and what takes any record ours does not. */
export const kafkajsEncodeRecord = require(RECORD_MODULE) as (fields: RecordFields) => Encoder

/** Deltas this small are varints of at most 5 bytes, with no 64-bit arithmetic; larger ones go to kafkajs's encoder. */
const SMALL = 2 ** 30

const zigZag = (n: number): number => ((n << 1) ^ (n >> 31)) >>> 0

function varIntSize(n: number): number {
  let z = zigZag(n)
  let bytes = 1
  while (z >= 0x80) {
    z >>>= 7
    bytes++
  }
  return bytes
}

function writeVarInt(buf: Buffer, at: number, n: number): number {
  let z = zigZag(n)
  while (z >= 0x80) {
    buf[at++] = (z & 0x7f) | 0x80
    z >>>= 7
  }
  buf[at++] = z
  return at
}

const isBytes = (v: unknown): v is string | Buffer => typeof v === 'string' || Buffer.isBuffer(v)
const byteLength = (v: string | Buffer): number => (typeof v === 'string' ? Buffer.byteLength(v) : v.length)

/** A length-prefixed field: -1 for null, as Kafka's record format has it. */
function writeBytes(buf: Buffer, at: number, v: string | Buffer | null | undefined, length: number): number {
  if (v == null) return writeVarInt(buf, at, -1)
  at = writeVarInt(buf, at, length)
  return at + (typeof v === 'string' ? buf.write(v, at, 'utf8') : v.copy(buf, at))
}

/**
 * Kafka's record (v2 format: length, attributes, timestamp and offset deltas, key, value, headers) in one buffer.
 * kafkajs allocates a zeroed 512-byte buffer per header and per record, and one more per varint: with the nine
 * headers of a bridge record, about a tenth of the bridge's CPU at 500 events/s went there. Anything ours does not
 * take as kafkajs would (a header that is not a string or Buffer, a key that is a number, a large delta) goes to
 * kafkajs's own encoder, so every record is encoded byte for byte as kafkajs encodes it, or fails as it fails.
 */
export function encodeRecord(fields: RecordFields): Encoder {
  const { offsetDelta = 0, timestampDelta = 0, key, value, headers = {} } = fields
  if (!Number.isInteger(offsetDelta) || !Number.isInteger(timestampDelta) || Math.abs(offsetDelta) >= SMALL || Math.abs(timestampDelta) >= SMALL) return kafkajsEncodeRecord(fields)
  if ((key != null && !isBytes(key)) || (value != null && !isBytes(value))) return kafkajsEncodeRecord(fields)
  const names = Object.keys(headers)
  const pairs: (string | Buffer)[] = []
  for (const name of names) {
    const given = headers[name]
    for (const v of Array.isArray(given) ? given : [given]) {
      if (!isBytes(v)) return kafkajsEncodeRecord(fields)
      pairs.push(name, v)
    }
  }
  const lengths = pairs.map(byteLength)
  const keyLength = key == null ? -1 : byteLength(key)
  const valueLength = value == null ? -1 : byteLength(value)
  const field = (length: number): number => (length < 0 ? varIntSize(-1) : varIntSize(length) + length)
  let body = 1 + varIntSize(timestampDelta) + varIntSize(offsetDelta) + field(keyLength) + field(valueLength) + varIntSize(pairs.length / 2)
  for (const length of lengths) body += field(length)

  const buf = Buffer.allocUnsafe(varIntSize(body) + body)
  let at = writeVarInt(buf, 0, body)
  buf[at++] = 0 // attributes: none are used in a record
  at = writeVarInt(buf, at, timestampDelta)
  at = writeVarInt(buf, at, offsetDelta)
  at = writeBytes(buf, at, key as string | Buffer | null | undefined, keyLength)
  at = writeBytes(buf, at, value as string | Buffer | null | undefined, valueLength)
  at = writeVarInt(buf, at, pairs.length / 2)
  for (let i = 0; i < pairs.length; i++) at = writeBytes(buf, at, pairs[i], lengths[i]!)
  const encoder = Object.create(EncoderClass.prototype) as Encoder
  encoder.buf = buf
  encoder.offset = at
  return encoder
}

// kafkajs's produce request v3 takes the record encoder from the module cache when it loads, and v4-v7 take v3.
// Those already loaded (a test's own producer, or this module evaluated again in the same process) are evicted,
// so kafkajs's produce call, which requires its request lazily, loads them again with this encoder.
const PRODUCE_REQUEST_MODULES = [3, 4, 5, 6, 7].map((v) => `kafkajs/src/protocol/requests/produce/v${v}/request.js`)
require.cache[RECORD_MODULE]!.exports = encodeRecord
for (const name of PRODUCE_REQUEST_MODULES) delete require.cache[require.resolve(name)]
