// Lenient conversions for senders that send numbers and booleans as strings (SPEC §4).

const INT32_MIN = -2_147_483_648
const INT32_MAX = 2_147_483_647

/** An int32 from a JSON number or a decimal string ("42", " 42 "); undefined when it is neither. */
export function toInt32(value: unknown): number | undefined {
  let n: number
  if (typeof value === 'number') n = value
  else if (typeof value === 'string' && /^\s*[-+]?\d{1,10}\s*$/.test(value)) n = Number(value)
  else return undefined
  return Number.isInteger(n) && n >= INT32_MIN && n <= INT32_MAX ? n : undefined
}

/** A safe-integer long from a JSON number or a decimal string. */
export function toLong(value: unknown): number | undefined {
  let n: number
  if (typeof value === 'number') n = value
  else if (typeof value === 'string' && /^\s*[-+]?\d{1,16}\s*$/.test(value)) n = Number(value)
  else return undefined
  return Number.isSafeInteger(n) ? n : undefined
}

/** true/false, 1/0, "1"/"0", "true"/"false" (any case); undefined for anything else. */
export function toBoolean(value: unknown): boolean | undefined {
  if (typeof value === 'boolean') return value
  if (value === 1 || value === 0) return value === 1
  if (typeof value === 'string') {
    const text = value.trim().toLowerCase()
    if (text === '1' || text === 'true') return true
    if (text === '0' || text === 'false') return false
  }
  return undefined
}

/**
 * A string from a JSON string, or from a number or boolean written as their JSON text
 * (`rawText`, when the caller has it, keeps digits that a double would round).
 */
export function toText(value: unknown, rawText?: string): string | undefined {
  if (typeof value === 'string') return value
  if (typeof value === 'number') return rawText ?? String(value)
  if (typeof value === 'boolean') return String(value)
  return undefined
}
