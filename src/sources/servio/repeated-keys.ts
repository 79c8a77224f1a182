// Finds a key repeated verbatim within one object of a JSON text, which JSON.parse would silently collapse to its last value.

export interface RepeatedKey {
  key: string
  /** Keys of the objects enclosing the one that repeats it, outermost first ([] for the top level). */
  within: string[]
}

interface ObjectFrame {
  keys: Set<string>
  last: string | undefined
}

function isWhitespace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09
}

/** The first repeated key of `text`, or undefined. One linear pass; `text` must be valid JSON (JSON.parse accepted it). */
export function repeatedKey(text: string): RepeatedKey | undefined {
  // null stands for an array: its strings are values, never keys.
  const frames: (ObjectFrame | null)[] = []
  let i = 0
  while (i < text.length) {
    const c = text.charCodeAt(i)
    if (c === 0x7b) frames.push({ keys: new Set(), last: undefined })
    else if (c === 0x5b) frames.push(null)
    else if (c === 0x7d || c === 0x5d) frames.pop()
    else if (c === 0x22) {
      const start = i
      let escaped = false
      i++
      while (i < text.length && text.charCodeAt(i) !== 0x22) {
        if (text.charCodeAt(i) === 0x5c) {
          escaped = true
          i += 2
        } else i++
      }
      const end = i + 1
      let next = end
      while (isWhitespace(text.charCodeAt(next))) next++
      const frame = frames[frames.length - 1]
      if (text.charCodeAt(next) === 0x3a && frame !== undefined && frame !== null) {
        // Compare keys as JSON.parse reads them: "Upd\u0061te" and "Update" are the same key.
        const key = escaped ? (JSON.parse(text.slice(start, end)) as string) : text.slice(start + 1, end - 1)
        if (frame.keys.has(key)) {
          const within = frames.slice(0, -1).flatMap((f) => (f === null || f.last === undefined ? [] : [f.last]))
          return { key, within }
        }
        frame.keys.add(key)
        frame.last = key
      }
      i = end
      continue
    }
    i++
  }
  return undefined
}
