// Confluent wire format: magic byte 0, the 4-byte big-endian schema id, then the Avro binary body.
import type avsc from 'avsc'
import { BridgeError, ErrorCodes } from '../errors.js'

export const MAGIC_BYTE = 0
const HEADER_BYTES = 5

/** The Avro binary of `value`, without the wire-format header (the schema id comes at delivery). */
export function encodeBody(type: avsc.Type, value: unknown): Buffer {
  try {
    return type.toBuffer(value)
  } catch (error) {
    // A value that does not fit its own schema is a bug in a source component, not bad input.
    throw new BridgeError(ErrorCodes.ENCODING_FAILED, `cannot encode ${type.name ?? 'value'}: ${(error as Error).message}`, { cause: error })
  }
}

/** Prefixes an Avro body with the magic byte and the schema id. */
export function withWireHeader(schemaId: number, body: Buffer): Buffer {
  const out = Buffer.allocUnsafe(HEADER_BYTES + body.length)
  out.writeUInt8(MAGIC_BYTE, 0)
  out.writeUInt32BE(schemaId, 1)
  body.copy(out, HEADER_BYTES)
  return out
}
