// Spool frames: what is written is read back byte for byte; a torn frame is 'incomplete', a damaged one 'corrupt', never a throw.
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { crc32 } from 'node:zlib'
import { describe, expect, it } from 'vitest'
import { encodeFrame, FRAME_HEADER_BYTES, MAX_FRAME_PAYLOAD, readFrame, type SpoolEntry } from '../../../src/delivery/spool/frame.js'
import { setAside } from '../../../src/delivery/spool/set-aside.js'
import { entry } from './spool-fixtures.js'

const HASH_A = 'a'.repeat(64)
const HASH_B = 'b'.repeat(64)

const sample: SpoolEntry = {
  receivedAt: 1_717_171_717_171,
  records: [
    { topic: 'dv2000.hospitality', key: 'room-101', headers: { event_id: 'e-1', source: 'front-desk' }, schema: HASH_A, body: Buffer.from([0, 1, 2, 255, 254, 0]) },
    { topic: 'servio.bookings', key: 'Київ-готель-№12 🛎', headers: {}, schema: HASH_B, body: Buffer.alloc(0) },
    { topic: 'servio.guests', key: '', headers: { 'x-ключ': 'значення ✓' }, schema: HASH_A, body: Buffer.from('plain text body') },
  ],
}

function expectEntry(buffer: Buffer, offset: number) {
  const read = readFrame(buffer, offset)
  if (read.kind !== 'entry') throw new Error(`expected an entry at ${offset}, got ${JSON.stringify(read)}`)
  return read
}

describe('encodeFrame / readFrame', () => {
  it('round-trips records with headers, empty and binary bodies and unicode keys, and reports where the next frame starts', () => {
    const frame = encodeFrame(sample)
    expect(frame.readUInt32BE(0)).toBe(frame.length - FRAME_HEADER_BYTES)
    expect(frame.readUInt32BE(4)).toBe(crc32(frame.subarray(FRAME_HEADER_BYTES)))

    const read = expectEntry(frame, 0)
    expect(read.next).toBe(frame.length)
    expect(read.entry.receivedAt).toBe(sample.receivedAt)
    expect(read.entry.records).toHaveLength(3)
    for (const [i, r] of read.entry.records.entries()) {
      const want = sample.records[i]!
      expect(r.topic).toBe(want.topic)
      expect(r.key).toBe(want.key)
      expect(r.headers).toEqual(want.headers)
      expect(r.schema).toBe(want.schema)
      expect(Buffer.isBuffer(r.body)).toBe(true)
      expect(r.body.equals(want.body)).toBe(true)
    }
    // The bodies are copies: a later reuse of the read buffer cannot change a record already handed out.
    frame.fill(0)
    expect(read.entry.records[0]!.body.equals(sample.records[0]!.body)).toBe(true)
  })

  it('round-trips an entry without records and every byte value in a body', () => {
    const everyByte = Buffer.from(Array.from({ length: 256 }, (_, i) => i))
    const entries: SpoolEntry[] = [
      { receivedAt: 0, records: [] },
      { receivedAt: 1, records: [{ topic: 't', key: 'k', headers: {}, schema: HASH_A, body: everyByte }] },
    ]
    const buffer = Buffer.concat(entries.map(encodeFrame))
    const first = expectEntry(buffer, 0)
    expect(first.entry).toEqual({ receivedAt: 0, records: [] })
    const second = expectEntry(buffer, first.next)
    expect(second.next).toBe(buffer.length)
    expect(second.entry.receivedAt).toBe(1)
    expect(second.entry.records[0]!.body.equals(everyByte)).toBe(true)
    expect(readFrame(buffer, second.next)).toEqual({ kind: 'incomplete' })
  })

  it('reads frames one after another from an offset inside a larger buffer', () => {
    const entries = Array.from({ length: 20 }, (_, i): SpoolEntry => ({
      receivedAt: 1000 + i,
      records: [{ topic: 't', key: `k${i}`, headers: { n: String(i) }, schema: HASH_A, body: Buffer.alloc(i * 7, i) }],
    }))
    const buffer = Buffer.concat([Buffer.from('prefix that is not a frame'), ...entries.map(encodeFrame)])
    let offset = 'prefix that is not a frame'.length
    for (let i = 0; i < entries.length; i++) {
      const read = expectEntry(buffer, offset)
      expect(read.entry.receivedAt).toBe(1000 + i)
      expect(read.entry.records[0]!.key).toBe(`k${i}`)
      expect(read.entry.records[0]!.body.equals(Buffer.alloc(i * 7, i))).toBe(true)
      offset = read.next
    }
    expect(offset).toBe(buffer.length)
  })

  it("says 'incomplete' for every truncation of a frame, and never throws", () => {
    const frame = encodeFrame(sample)
    for (let length = 0; length < frame.length; length++) {
      expect(readFrame(frame.subarray(0, length), 0), `truncated to ${length} of ${frame.length} bytes`).toEqual({ kind: 'incomplete' })
    }
    // Also when the torn frame follows a whole one.
    const two = Buffer.concat([encodeFrame(sample), frame])
    const first = expectEntry(two, 0)
    for (let cut = 1; cut < frame.length; cut++) {
      expect(readFrame(two.subarray(0, two.length - cut), first.next)).toEqual({ kind: 'incomplete' })
    }
  })

  it("says 'corrupt' (checksum mismatch) when any payload byte is flipped", () => {
    const frame = encodeFrame(sample)
    for (let at = FRAME_HEADER_BYTES; at < frame.length; at++) {
      const damaged = Buffer.from(frame)
      damaged[at] = damaged[at]! ^ 0xff
      const read = readFrame(damaged, 0)
      expect(read, `byte ${at} flipped`).toEqual({ kind: 'corrupt', reason: 'checksum mismatch' })
    }
  })

  it("says 'corrupt' when the stored checksum itself is damaged", () => {
    for (let at = 4; at < FRAME_HEADER_BYTES; at++) {
      const damaged = encodeFrame(sample)
      damaged[at] = damaged[at]! ^ 0x01
      expect(readFrame(damaged, 0)).toEqual({ kind: 'corrupt', reason: 'checksum mismatch' })
    }
  })

  it("says 'corrupt' for an impossible length (too small or absurdly large), even before the bytes are there", () => {
    for (const length of [0, 1, 3, MAX_FRAME_PAYLOAD + 1, 0xffffffff]) {
      const header = Buffer.alloc(FRAME_HEADER_BYTES)
      header.writeUInt32BE(length, 0)
      const read = readFrame(Buffer.concat([header, Buffer.alloc(16)]), 0)
      expect(read.kind, `length ${length}`).toBe('corrupt')
      if (read.kind === 'corrupt') expect(read.reason).toBe(`impossible frame length ${length}`)
    }
    // A zero-filled tail (a crash after the file grew but before its data landed) is corrupt, not an endless wait.
    expect(readFrame(Buffer.alloc(64), 0).kind).toBe('corrupt')
  })

  it("says 'corrupt' (not a throw) for a well-checksummed payload whose metadata is not an entry", () => {
    const payloads = [
      Buffer.from([0, 0, 0, 2, 0x7b, 0x7d]), // meta {} : no records array
      Buffer.from([0, 0, 0, 3, 0x6e, 0x6f, 0x21]), // meta 'no!' : not JSON
      Buffer.from([0xff, 0xff, 0xff, 0xff]), // meta length past the payload
    ]
    for (const payload of payloads) {
      const header = Buffer.alloc(FRAME_HEADER_BYTES)
      header.writeUInt32BE(payload.length, 0)
      header.writeUInt32BE(crc32(payload), 4)
      const read = readFrame(Buffer.concat([header, payload]), 0)
      expect(read.kind).toBe('corrupt')
      if (read.kind === 'corrupt') expect(read.reason).toMatch(/^unreadable entry: /)
    }
  })
})

describe('setAside', () => {
  it('keeps each refused batch in a file of its own, readable frame by frame, even two in the same millisecond', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'hkb-aside-'))
    try {
      const first = await setAside(dir, [entry(1), entry(2)])
      const second = await setAside(dir, [entry(3), entry(4)])
      expect(first).not.toBe(second)
      // Two files of frames, each with its note.
      expect((await readdir(join(dir, 'rejected'))).filter((n) => n.endsWith('.frames'))).toHaveLength(2)
      expect((await readdir(join(dir, 'rejected'))).filter((n) => n.endsWith('.json'))).toHaveLength(2)
      const data = await readFile(second)
      const one = readFrame(data, 0)
      expect(one.kind).toBe('entry')
      if (one.kind !== 'entry') return
      const two = readFrame(data, one.next)
      expect(two.kind === 'entry' && [...one.entry.records, ...two.entry.records].map((r) => r.headers['event_id'])).toEqual(['e-3', 'e-4'])
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })
})
