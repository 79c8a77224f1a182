// Request bytes to text: UTF-8 as JSON requires, with Windows-1252 for senders on legacy Windows code pages.

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false })
const windows1252 = new TextDecoder('windows-1252')

export interface BodyText {
  text: string
  /** False when the bytes were not valid UTF-8 and were read as Windows-1252 instead. */
  utf8: boolean
}

export function bodyText(body: Uint8Array): BodyText {
  try {
    return { text: utf8.decode(body), utf8: true }
  } catch {
    return { text: windows1252.decode(body), utf8: false }
  }
}
