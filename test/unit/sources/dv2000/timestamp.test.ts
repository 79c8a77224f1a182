// occurred_at: DV2000's ISO 8601 timestamp to the instant it names, or null when it names none.
import { describe, expect, it } from 'vitest'
import { occurredAt } from '../../../../src/sources/dv2000/timestamp.js'

describe('occurredAt', () => {
  const instants: [string, number][] = [
    ['2023-09-13T08:07:46-07:00', Date.UTC(2023, 8, 13, 15, 7, 46)],
    ['2023-09-13T15:07:46Z', Date.UTC(2023, 8, 13, 15, 7, 46)],
    ['2023-09-13T15:07:46z', Date.UTC(2023, 8, 13, 15, 7, 46)],
    ['2023-09-13T20:37:46+05:30', Date.UTC(2023, 8, 13, 15, 7, 46)],
    ['2023-09-13T20:37:46+0530', Date.UTC(2023, 8, 13, 15, 7, 46)],
    ['2023-09-13T17:07:46+02', Date.UTC(2023, 8, 13, 15, 7, 46)],
    ['2023-09-13 08:07:46-07:00', Date.UTC(2023, 8, 13, 15, 7, 46)],
    ['2023-09-13T15:07:46.123Z', Date.UTC(2023, 8, 13, 15, 7, 46, 123)],
    ['2023-09-13T15:07:46.5Z', Date.UTC(2023, 8, 13, 15, 7, 46, 500)],
    ['2023-09-13T15:07:46,25Z', Date.UTC(2023, 8, 13, 15, 7, 46, 250)],
    ['2023-09-13T15:07:46.1239999Z', Date.UTC(2023, 8, 13, 15, 7, 46, 123)],
    ['2023-09-13T08:07:46.999-07:00', Date.UTC(2023, 8, 13, 15, 7, 46, 999)],
    // The offset moves the instant across midnight and the year.
    ['2023-12-31T23:30:00-01:00', Date.UTC(2024, 0, 1, 0, 30, 0)],
    ['2024-02-29T00:00:00+00:00', Date.UTC(2024, 1, 29)],
    ['  2023-09-13T15:07:46Z  ', Date.UTC(2023, 8, 13, 15, 7, 46)],
  ]
  it.each(instants)('%s is %i', (timestamp, expected) => {
    expect(occurredAt(timestamp)).toBe(expected)
  })

  it('keeps every millisecond of a 3-digit fraction', () => {
    for (let ms = 0; ms < 1000; ms++) {
      const fraction = String(ms).padStart(3, '0')
      expect(occurredAt(`2023-09-13T15:07:46.${fraction}Z`)).toBe(Date.UTC(2023, 8, 13, 15, 7, 46, ms))
    }
  })

  const nulls: [string, string][] = [
    ['no offset: a local time names no instant', '2023-09-13T08:07:46'],
    ['31 February', '2023-02-31T08:07:46Z'],
    ['29 February of a common year', '2023-02-29T08:07:46Z'],
    ['month 13', '2023-13-01T08:07:46Z'],
    ['hour 24', '2023-09-13T24:00:00Z'],
    ['second 60', '2023-09-13T23:59:60Z'],
    ['an offset of 24 hours', '2023-09-13T08:07:46+24:00'],
    ['offset minutes 60', '2023-09-13T08:07:46+05:60'],
    ['the packet date format', '2023/09/13 08:07:46'],
    ['a date only', '2023-09-13'],
    ['garbage', 'yesterday at noon'],
    ['empty', ''],
  ]
  it.each(nulls)('is null for %s (%s)', (_why, timestamp) => {
    expect(occurredAt(timestamp)).toBeNull()
  })
})
