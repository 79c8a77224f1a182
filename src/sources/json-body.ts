// A request body as JSON, for every sender: its text (UTF-8, or Windows-1252) and parsed value, or BAD_INPUT.
import { BridgeError, ErrorCodes } from '../errors.js'
import { bodyText } from './body-text.js'

export interface JsonBody {
  value: unknown
  /** The decoded text the value was parsed from (spans into it keep values as sent). */
  text: string
  /** False when the bytes were read as Windows-1252. */
  utf8: boolean
}

/** A JSON object: not null, not an array. */
export function isJsonObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

export function badInput(reason: string, cause?: unknown): BridgeError {
  return new BridgeError(ErrorCodes.BAD_INPUT, reason, { cause })
}

export function parseJsonBody(body: Buffer): JsonBody {
  if (body.length === 0) throw badInput('the body is empty')
  const { text, utf8 } = bodyText(body)
  try {
    return { value: JSON.parse(text), text, utf8 }
  } catch (error) {
    throw badInput(`the body is not valid JSON: ${(error as Error).message}`, error)
  }
}
