// The spool's parts on their own: the appender's group commit, the reader's batches, the segment files' life.
import { readdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { createAppender } from '../../../src/delivery/spool/appender.js'
import { encodeFrame, readFrame, type SpoolEntry } from '../../../src/delivery/spool/frame.js'
import { readBatch } from '../../../src/delivery/spool/reader.js'
import { dropDelivered, openSegment, recoverSegments } from '../../../src/delivery/spool/segment-files.js'
import { segmentName } from '../../../src/delivery/spool/segments.js'
import { createSpoolState, type SpoolState } from '../../../src/delivery/spool/state.js'
import { entry, idsOf, ids, silent, tempDirs } from './spool-fixtures.js'

const dirs = tempDirs()
const states: SpoolState[] = []
afterEach(async () => {
  for (const s of states.splice(0)) await s.active?.handle.close()
  await dirs.cleanup()
})

function decodeFrames(bytes: Buffer): SpoolEntry[] {
  const out: SpoolEntry[] = []
  for (let at = 0; at < bytes.length; ) {
    const frame = readFrame(bytes, at)
    if (frame.kind !== 'entry') throw new Error(`not a whole frame at ${at}`)
    out.push(frame.entry)
    at = frame.next
  }
  return out
}

async function state(segmentBytes = 1 << 20): Promise<SpoolState> {
  const s = createSpoolState(await dirs.make('parts-'), segmentBytes, silent())
  states.push(s)
  return s
}

/** Segment files as a crash would leave them: `frames` per file, numbered from 1. */
async function segmentsOnDisk(s: SpoolState, perFile: number[][]): Promise<void> {
  let seq = 1
  for (const numbers of perFile) await writeFile(join(s.dir, segmentName(seq++)), Buffer.concat(numbers.map((n) => encodeFrame(entry(n)))))
}

describe('appender', () => {
  it('writes concurrent appends in order with one fsync for all that queued behind the first', async () => {
    const s = await state()
    const appender = createAppender(s)
    await Promise.all(Array.from({ length: 50 }, (_, n) => appender.append(encodeFrame(entry(n)))))
    // The first append goes alone; the 49 that arrived while it was written share the second round.
    expect(appender.syncs).toBe(2)
    expect(appender.busy).toBe(false)
    const file = await readFile(s.segments[0]!.path)
    expect(idsOf(decodeFrames(file))).toEqual(ids(0, 50))
    expect(s.diskBytes).toBe(file.length)
    expect(s.segments[0]!.size).toBe(file.length)
  })

  it('starts a new segment once the active one reaches segmentBytes', async () => {
    const s = await state(1)
    const appender = createAppender(s)
    for (let n = 0; n < 3; n++) await appender.append(encodeFrame(entry(n)))
    expect(s.segments.map((x) => x.seq)).toEqual([1, 2, 3])
    expect((await readdir(s.dir)).filter((f) => f.endsWith('.seg'))).toHaveLength(3)
  })
})

describe('reader', () => {
  it('reads from the cursor, up to maxRecords, one segment at a time, and says undefined at the end', async () => {
    const s = await state()
    await segmentsOnDisk(s, [[0, 1, 2], [3, 4]])
    await recoverSegments(s)
    const first = await readBatch(s, 2)
    expect(idsOf(first!.entries)).toEqual(['e-0', 'e-1'])
    s.cursor = first!.end
    const second = await readBatch(s, 10)
    // A batch never spans segments: the rest of the first one.
    expect(idsOf(second!.entries)).toEqual(['e-2'])
    s.cursor = second!.end
    expect(idsOf((await readBatch(s, 10))!.entries)).toEqual(['e-3', 'e-4'])
    s.cursor = { seq: 2, offset: s.segments[1]!.size }
    expect(await readBatch(s, 10)).toBeUndefined()
  })

  it('refuses a corrupt frame with SPOOL_FAILED naming the segment and offset', async () => {
    const s = await state()
    await segmentsOnDisk(s, [[0, 1]])
    await recoverSegments(s)
    const path = s.segments[0]!.path
    const bytes = await readFile(path)
    bytes.writeUInt8(bytes.readUInt8(bytes.length - 3) ^ 0xff, bytes.length - 3)
    await writeFile(path, bytes)
    await expect(readBatch(s, 10)).rejects.toMatchObject({ code: 'SPOOL_FAILED', message: expect.stringMatching(/corrupt at \d+: checksum mismatch/) })
  })
})

describe('segment files', () => {
  it('recovers: drops segments before the cursor, cuts a torn tail, keeps a corrupt middle aside, counts what is left', async () => {
    const s = await state()
    await segmentsOnDisk(s, [[0], [1, 2], [3, 4]])
    await writeFile(join(s.dir, 'cursor.json'), JSON.stringify({ seq: 2, offset: 0 }))
    // Corrupt the middle (segment 2's last frame) and tear the last one (half a frame appended).
    const middle = join(s.dir, segmentName(2))
    const bytes = await readFile(middle)
    bytes.writeUInt8(bytes.readUInt8(bytes.length - 2) ^ 0xff, bytes.length - 2)
    await writeFile(middle, bytes)
    await writeFile(join(s.dir, segmentName(3)), Buffer.concat([await readFile(join(s.dir, segmentName(3))), encodeFrame(entry(5)).subarray(0, 9)]))
    await recoverSegments(s)
    const files = (await readdir(s.dir)).sort()
    expect(files).toContain(`${segmentName(2)}.corrupt`)
    expect(files).not.toContain(segmentName(1))
    expect(s.segments.map((x) => x.seq)).toEqual([2, 3])
    // e-1 of the middle, e-3 and e-4 of the last; e-2 (corrupt) set aside, the torn e-5 cut.
    expect(s.entries).toBe(3)
    expect(s.nextSeq).toBe(4)
  })

  it('deletes delivered segments, but not the active one while a write is in flight', async () => {
    const s = await state()
    await segmentsOnDisk(s, [[0], [1]])
    await recoverSegments(s)
    // Segment 1 read to its end: it goes, and the cursor moves to the start of the next.
    s.cursor = { seq: 1, offset: s.segments[0]!.size }
    await dropDelivered(s, () => false)
    expect(s.segments.map((x) => x.seq)).toEqual([2])
    expect(s.cursor).toEqual({ seq: 2, offset: 0 })
    // Segment 2 read too, while the (empty) active segment 3 is being written: 2 goes, 3 stays.
    s.active = await openSegment(s)
    s.cursor = { seq: 2, offset: s.segments[0]!.size }
    await dropDelivered(s, () => true)
    expect(s.segments.map((x) => x.seq)).toEqual([3])
    expect(s.active).toBeDefined()
    await dropDelivered(s, () => false)
    expect(s.segments).toEqual([])
    expect(s.active).toBeUndefined()
    expect((await readdir(s.dir)).filter((f) => f.endsWith('.seg'))).toEqual([])
    expect(s.cursor).toEqual({ seq: 4, offset: 0 })
  })
})
