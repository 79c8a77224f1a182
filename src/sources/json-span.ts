// Locates members of an already-validated JSON object in its text, so values can be kept exactly as sent.

export interface Span {
  start: number
  end: number
}

function skipWhitespace(text: string, index: number): number {
  let i = index
  for (;;) {
    const c = text.charCodeAt(i)
    if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) i++
    else return i
  }
}

function stringEnd(text: string, index: number): number {
  let i = index + 1
  for (;;) {
    const c = text.charCodeAt(i)
    if (c === 0x5c) i += 2
    else if (c === 0x22) return i + 1
    else if (Number.isNaN(c)) return text.length
    else i++
  }
}

/** Index just past the JSON value that starts at `index` (which must not be whitespace). */
function valueEnd(text: string, index: number): number {
  const first = text.charCodeAt(index)
  if (first === 0x22) return stringEnd(text, index)
  if (first !== 0x7b && first !== 0x5b) {
    let i = index
    for (;;) {
      const c = text.charCodeAt(i)
      if (Number.isNaN(c) || c === 0x2c || c === 0x7d || c === 0x5d || c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) return i
      i++
    }
  }
  let depth = 0
  let i = index
  for (;;) {
    const c = text.charCodeAt(i)
    if (Number.isNaN(c)) return text.length
    if (c === 0x22) {
      i = stringEnd(text, i)
      continue
    }
    if (c === 0x7b || c === 0x5b) depth++
    else if (c === 0x7d || c === 0x5d) {
      depth--
      if (depth === 0) return i + 1
    }
    i++
  }
}

/**
 * Spans of the members of the object whose text is `text[span.start, span.end)`, by key.
 * The text must be valid JSON (JSON.parse accepted it); like JSON.parse, a repeated key keeps its last value.
 */
export function memberSpans(text: string, span: Span = { start: 0, end: text.length }): Map<string, Span> {
  const members = new Map<string, Span>()
  let i = skipWhitespace(text, span.start)
  if (text.charCodeAt(i) !== 0x7b) return members
  i = skipWhitespace(text, i + 1)
  while (i < span.end && text.charCodeAt(i) === 0x22) {
    const keyEnd = stringEnd(text, i)
    const raw = text.slice(i + 1, keyEnd - 1)
    // Only a key with an escape needs decoding; JSON.parse for every key was a measurable share of a request.
    const key = raw.includes('\\') ? (JSON.parse(text.slice(i, keyEnd)) as string) : raw
    i = skipWhitespace(text, keyEnd)
    i = skipWhitespace(text, i + 1) // past ':'
    const end = valueEnd(text, i)
    members.set(key, { start: i, end })
    i = skipWhitespace(text, end)
    if (text.charCodeAt(i) === 0x2c) i = skipWhitespace(text, i + 1)
  }
  return members
}

export function sliceOf(text: string, span: Span | undefined): string | undefined {
  return span === undefined ? undefined : text.slice(span.start, span.end)
}
