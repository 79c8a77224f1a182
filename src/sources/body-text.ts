// Request bytes to text: UTF-8 as JSON requires, with Windows-1252 for senders on legacy Windows code pages.

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false })
const latin1 = new TextDecoder('latin1')
/**
 * Windows-1252's 0x80-0x9F (€, ’, “, ”, –, …); 0 where the code page has no character. Node's own
 * windows-1252 decoder yields C1 controls there on some 20.x releases, so the table is ours.
 */
const CP1252_HIGH = [
  0x20ac, 0, 0x201a, 0x0192, 0x201e, 0x2026, 0x2020, 0x2021, 0x02c6, 0x2030, 0x0160, 0x2039, 0x0152, 0, 0x017d, 0,
  0, 0x2018, 0x2019, 0x201c, 0x201d, 0x2022, 0x2013, 0x2014, 0x02dc, 0x2122, 0x0161, 0x203a, 0x0153, 0, 0x017e, 0x0178,
]

function decodeWindows1252(body: Uint8Array): string {
  return latin1.decode(body).replace(/[\u0080-\u009f]/g, (c) => {
    const mapped = CP1252_HIGH[c.charCodeAt(0) - 0x80] ?? 0
    return mapped === 0 ? c : String.fromCharCode(mapped)
  })
}

export interface BodyText {
  text: string
  /** False when the bytes were not valid UTF-8 and were read as Windows-1252 instead. */
  utf8: boolean
}

export function bodyText(body: Uint8Array): BodyText {
  try {
    return { text: utf8.decode(body), utf8: true }
  } catch {
    return { text: decodeWindows1252(body), utf8: false }
  }
}
