// Set-aside files and their notes: written durably, read back with the reason, damage reported, removed with the note.
import { appendFileSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { encodeFrame, type SpoolEntry } from '../../../src/delivery/spool/frame.js'
import { readSetAside, removeSetAside, setAside } from '../../../src/delivery/spool/set-aside.js'
import { BridgeError, ErrorCodes } from '../../../src/errors.js'

const entry = (key: string, receivedAt = 1_795_000_000_000): SpoolEntry => ({
  receivedAt,
  records: [{ topic: 'h7.dv2000.hospitality', key, headers: { event_id: `id-${key}` }, schema: 'ab'.repeat(32), body: Buffer.from(key) }],
})

describe('set-aside files', () => {
  it('keeps the entries and why Kafka refused them, and reads both back', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'set-aside-'))
    const refusal = new BridgeError(ErrorCodes.KAFKA_REJECTED, 'Kafka refused producing 1 record(s) for good (MESSAGE_TOO_LARGE)')
    const file = await setAside(dir, [entry('101'), entry('102')], refusal)
    const [read] = await readSetAside(dir)
    expect(read!.file).toBe(file)
    expect(read!.entries.map((e) => e.records[0]!.key)).toEqual(['101', '102'])
    expect(read!.note).toEqual({ reason: refusal.message, code: 'KAFKA_REJECTED', setAsideAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) })
    expect(read!.problem).toBeUndefined()
    await removeSetAside(file)
    expect(readdirSync(join(dir, 'rejected'))).toEqual([])
    expect(await readSetAside(dir)).toEqual([])
  })

  it('reads a file written before notes were kept (no note), and reports a damaged tail after what it could read', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'set-aside-'))
    const rejected = join(dir, 'rejected')
    await setAside(dir, [entry('1')], new Error('first'))
    const old = join(rejected, '2025-01-01T00-00-00-000Z-0000abcd.frames')
    writeFileSync(old, Buffer.concat([encodeFrame(entry('old'))]))
    appendFileSync(old, Buffer.from([0, 0, 0, 9, 1, 2, 3]))
    const files = await readSetAside(dir)
    expect(files.map((f) => f.file)).toEqual([old, expect.stringMatching(/\.frames$/)])
    expect(files[0]!.note).toBeNull()
    expect(files[0]!.entries.map((e) => e.records[0]!.key)).toEqual(['old'])
    // The 7 bytes appended are fewer than a frame header: the scan stops there, after the one whole entry.
    expect(files[0]!.problem).toMatch(/^incomplete frame \(7 of at least 8 bytes\) at byte \d+$/)
    expect(files[1]!.note?.reason).toBe('first')
    expect(await readSetAside(join(dir, 'no-such-spool'))).toEqual([])
  })
})
