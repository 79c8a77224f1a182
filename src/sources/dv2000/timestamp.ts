// DV2000's ISO 8601 `timestamp` to epoch milliseconds, honouring its UTC offset.

const ISO_8601 = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:[.,](\d{1,9}))?(Z|[+-]\d{2}(?::?\d{2})?)$/i

/** Epoch ms for a timestamp with an offset or Z; null when it has no offset (its instant is unknown) or is malformed. */
export function occurredAt(timestamp: string): number | null {
  const m = ISO_8601.exec(timestamp.trim())
  if (m === null) return null
  const [, y, mo, d, h, mi, s, fraction, zone] = m as unknown as string[]
  const year = Number(y)
  const month = Number(mo)
  const day = Number(d)
  const hour = Number(h)
  const minute = Number(mi)
  const second = Number(s)
  if (month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 59) return null
  const millis = fraction === undefined ? 0 : Math.floor(Number(`0.${fraction}`) * 1000)
  const local = Date.UTC(year, month - 1, day, hour, minute, second, millis)
  // Date.UTC rolls 31 February over to March; a real date survives the round trip.
  if (new Date(local).getUTCDate() !== day) return null
  let offsetMinutes = 0
  if (zone !== undefined && zone.toUpperCase() !== 'Z') {
    const sign = zone.startsWith('-') ? -1 : 1
    const digits = zone.slice(1).replace(':', '')
    const oh = Number(digits.slice(0, 2))
    const om = digits.length > 2 ? Number(digits.slice(2, 4)) : 0
    if (oh > 23 || om > 59) return null
    offsetMinutes = sign * (oh * 60 + om)
  }
  return local - offsetMinutes * 60_000
}
