// The durable spool on a real temp folder: order, counters, group commit, rotation, restart, bounds, torn and corrupt files.
import { appendFile, readdir, readFile, stat, truncate, unlink, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { encodeFrame, FRAME_HEADER_BYTES, MAX_FRAME_PAYLOAD, type SpoolEntry } from '../../../src/delivery/spool/frame.js'
import { createSpool, type Spool } from '../../../src/delivery/spool/spool.js'
import { BridgeError, ErrorCodes, httpStatusOf } from '../../../src/errors.js'
import { capturingLogger, drainAll, entry, ids, idsOf, silent, spoolsOnDisk } from './spool-fixtures.js'

const spools = spoolsOnDisk()
const dirs = spools.dirs
const openSpool = spools.open
afterEach(() => spools.cleanup())

async function segmentFiles(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((n) => n.endsWith('.seg')).sort()
}

const frameBytes = (entries: readonly SpoolEntry[]): number => entries.reduce((n, e) => n + encodeFrame(e).length, 0)

async function appendAll(spool: Spool, from: number, to: number): Promise<void> {
  for (let n = from; n < to; n++) await spool.append(entry(n))
}

/** The BridgeError a promise rejects with; fails when it resolves or rejects with anything else. */
async function rejection(promise: Promise<unknown>): Promise<BridgeError> {
  const error = await promise.then(
    () => new Error('expected a rejection, but it resolved'),
    (e: unknown) => e,
  )
  if (!(error instanceof BridgeError)) throw new Error(`expected a BridgeError, got ${String(error)}`, { cause: error })
  return error
}

describe('spool: append, read, ack', () => {
  it('gives back many entries in append order, batch by batch, with exact entry and byte counters', async () => {
    const dir = await dirs.make()
    const spool = await openSpool(dir)
    expect(spool.entries).toBe(0)
    expect(spool.bytes).toBe(0)
    expect(await spool.read(10)).toBeUndefined()

    const all = Array.from({ length: 200 }, (_, n) => entry(n, n % 50))
    for (const e of all) await spool.append(e)
    expect(spool.entries).toBe(200)
    expect(spool.bytes).toBe(frameBytes(all))

    const seen: string[] = []
    let left = 200
    for (;;) {
      const batch = await spool.read(7)
      if (batch === undefined) break
      expect(batch.records).toBe(batch.entries.length)
      expect(batch.records).toBeLessThanOrEqual(7)
      expect(batch.bytes).toBe(frameBytes(batch.entries))
      // Reading does not move the spool: the same batch comes back until it is acked.
      const again = await spool.read(7)
      expect(idsOf(again!.entries)).toEqual(idsOf(batch.entries))
      seen.push(...idsOf(batch.entries))
      const bytesBefore = spool.bytes
      await spool.ack(batch)
      left -= batch.entries.length
      expect(spool.entries).toBe(left)
      expect(spool.bytes).toBe(bytesBefore - batch.bytes)
    }
    expect(seen).toEqual(ids(0, 200))
    expect(spool.entries).toBe(0)
    expect(spool.bytes).toBe(0)
    // The bodies came back byte for byte, too.
    const last = await (async () => {
      await spool.append(entry(7, 49))
      return (await spool.read(1))!.entries[0]!
    })()
    expect(last).toEqual(entry(7, 49))
  })

  it('group-commits concurrent appends: all resolve, all durable in a fresh instance, in order, with far fewer writes than appends', async () => {
    const dir = await dirs.make()
    // segmentBytes 1: every write (one group commit) goes to a segment of its own, so files counted = fsyncs made.
    const spool = await openSpool(dir, { segmentBytes: 1 })
    const appends = Array.from({ length: 300 }, (_, n) => spool.append(entry(n)))
    expect(spool.entries).toBe(300)
    await Promise.all(appends)
    const files = await segmentFiles(dir)
    expect(files.length).toBeGreaterThanOrEqual(1)
    expect(files.length).toBeLessThanOrEqual(3)
    await spool.close()

    const reopened = await openSpool(dir, { segmentBytes: 1 })
    expect(reopened.entries).toBe(300)
    expect(await drainAll(reopened, 64)).toEqual(ids(0, 300))
  })

  it('keeps the order of appends that were queued while a write was in flight', async () => {
    const dir = await dirs.make()
    const spool = await openSpool(dir)
    const first = spool.append(entry(0))
    const rest = Array.from({ length: 50 }, (_, i) => spool.append(entry(i + 1)))
    await Promise.all([first, ...rest])
    expect(await drainAll(spool)).toEqual(ids(0, 51))
  })

  it('limits a read to maxRecords records, but always returns at least one entry', async () => {
    const dir = await dirs.make()
    const spool = await openSpool(dir)
    const twoRecords = (n: number): SpoolEntry => ({ receivedAt: n, records: [...entry(n).records, ...entry(n + 1000).records] })
    for (let n = 0; n < 10; n++) await spool.append(twoRecords(n))

    const one = await spool.read(1)
    expect(one!.entries).toHaveLength(1)
    expect(one!.records).toBe(2)

    const four = await spool.read(4)
    expect(four!.entries).toHaveLength(2)
    expect(four!.records).toBe(4)

    // "up to maxRecords records": 5 allows two whole entries (4 records), not a third that makes 6.
    const five = await spool.read(5)
    expect(five!.records).toBeLessThanOrEqual(5)
    expect(five!.entries).toHaveLength(2)
  })

  it('reads back intact an entry larger than the 8 MiB read chunk, between small ones', async () => {
    const dir = await dirs.make()
    const spool = await openSpool(dir)
    const big: SpoolEntry = { receivedAt: 42, records: [{ ...entry(1).records[0]!, body: Buffer.alloc(9 * 1024 * 1024) }] }
    for (let i = 0; i < big.records[0]!.body.length; i += 4096) big.records[0]!.body.writeUInt32BE(i, i)
    await spool.append(entry(0))
    await spool.append(big)
    await spool.append(entry(2))

    const firstBatch = await spool.read(100)
    await spool.ack(firstBatch!)
    const rest = [...firstBatch!.entries]
    for (;;) {
      const batch = await spool.read(100)
      if (batch === undefined) break
      rest.push(...batch.entries)
      await spool.ack(batch)
    }
    expect(idsOf(rest)).toEqual(['e-0', 'e-1', 'e-2'])
    expect(rest[1]!.receivedAt).toBe(42)
    expect(rest[1]!.records[0]!.body.equals(big.records[0]!.body)).toBe(true)
    expect(spool.entries).toBe(0)
  })

  it('reads back a big entry at the start of a fresh instance (nothing before it in the chunk)', async () => {
    const dir = await dirs.make()
    const spool = await openSpool(dir)
    const body = Buffer.alloc(9 * 1024 * 1024 + 13, 0xab)
    await spool.append({ receivedAt: 1, records: [{ ...entry(0).records[0]!, body }] })
    await spool.close()
    const reopened = await openSpool(dir)
    const batch = await reopened.read(10)
    expect(batch!.entries).toHaveLength(1)
    expect(batch!.entries[0]!.records[0]!.body.equals(body)).toBe(true)
    expect(batch!.bytes).toBe(reopened.bytes)
  })

  it('refuses at append an entry larger than it could read back, storing nothing (an answer 202 would be a lie)', async () => {
    const dir = await dirs.make()
    const spool = await openSpool(dir, { maxBytes: 1 << 30 })
    const body = Buffer.alloc(MAX_FRAME_PAYLOAD + 1)
    const error = await rejection(spool.append({ receivedAt: 1, records: [{ ...entry(0).records[0]!, body }] }))
    expect(error.code).toBe(ErrorCodes.SPOOL_FAILED)
    expect(error.message).toMatch(/more than the spool can read back/)
    expect({ entries: spool.entries, usedBytes: spool.usedBytes, segments: await segmentFiles(dir) }).toEqual({ entries: 0, usedBytes: 0, segments: [] })
  })

  it('tells the receive time of the oldest undelivered entry', async () => {
    const dir = await dirs.make()
    const spool = await openSpool(dir)
    expect(await spool.oldestReceivedAt()).toBeUndefined()
    await appendAll(spool, 5, 8)
    expect(await spool.oldestReceivedAt()).toBe(entry(5).receivedAt)
    await spool.ack((await spool.read(1))!)
    expect(await spool.oldestReceivedAt()).toBe(entry(6).receivedAt)
    await drainAll(spool)
    expect(await spool.oldestReceivedAt()).toBeUndefined()
  })

  it('rejects appends before open and after close, and close waits for writes already accepted', async () => {
    const dir = await dirs.make()
    const unopened = createSpool({ dir, maxBytes: 1 << 20, logger: silent() })
    const before = await rejection(unopened.append(entry(0)))
    expect(before.code).toBe(ErrorCodes.SHUTTING_DOWN)

    const spool = await openSpool(dir)
    const accepted = Array.from({ length: 20 }, (_, n) => spool.append(entry(n)))
    await spool.close()
    await expect(Promise.all(accepted)).resolves.toBeDefined()
    const after = await rejection(spool.append(entry(99)))
    expect(after.code).toBe(ErrorCodes.SHUTTING_DOWN)
    expect(httpStatusOf[after.code]).toBe(503)

    const reopened = await openSpool(dir)
    expect(await drainAll(reopened)).toEqual(ids(0, 20))
  })
})

describe('spool: segments', () => {
  it('rotates into several segment files and deletes each once delivered, the active one included', async () => {
    const dir = await dirs.make()
    const frame = encodeFrame(entry(10)).length
    // Three entries per segment: the size is checked before each write.
    const spool = await openSpool(dir, { segmentBytes: frame * 2 + 1 })
    await appendAll(spool, 10, 22)
    const files = await segmentFiles(dir)
    expect(files).toHaveLength(4)
    for (const f of files) expect((await stat(join(dir, f))).size).toBe(frameBytes([entry(10), entry(11), entry(12)]))

    // Deliver four entries: the first segment is gone, the second is half done and stays.
    await spool.ack((await spool.read(3))!)
    expect(await segmentFiles(dir)).toEqual(files.slice(1))
    await spool.ack((await spool.read(1))!)
    expect(await segmentFiles(dir)).toEqual(files.slice(1))
    expect(spool.entries).toBe(8)

    expect(await drainAll(spool, 2)).toEqual(ids(14, 22))
    expect(await segmentFiles(dir)).toEqual([])
    expect(spool.entries).toBe(0)
    expect(spool.bytes).toBe(0)

    // Appending again starts a new segment numbered after the deleted ones, and a fresh instance agrees.
    await spool.append(entry(30))
    const next = await segmentFiles(dir)
    expect(next).toHaveLength(1)
    expect(next[0]! > files.at(-1)!).toBe(true)
    await spool.close()
    const reopened = await openSpool(dir)
    expect(reopened.entries).toBe(1)
    expect(await drainAll(reopened)).toEqual(['e-30'])
  })

  it('after a restart resumes from the cursor: acked entries are not replayed, the rest come in order', async () => {
    const dir = await dirs.make()
    const frame = encodeFrame(entry(10)).length
    const spool = await openSpool(dir, { segmentBytes: frame * 2 + 1 })
    await appendAll(spool, 10, 20)
    // A read stops at the end of a segment: three entries, then one from the next segment.
    const firstThree = (await spool.read(4))!
    expect(idsOf(firstThree.entries)).toEqual(ids(10, 13))
    await spool.ack(firstThree)
    await spool.ack((await spool.read(1))!)
    const bytesLeft = spool.bytes
    await spool.close()

    const reopened = await openSpool(dir, { segmentBytes: frame * 2 + 1 })
    expect(reopened.entries).toBe(6)
    expect(reopened.bytes).toBe(bytesLeft)
    expect(await reopened.oldestReceivedAt()).toBe(entry(14).receivedAt)
    // New entries go behind the old ones.
    await reopened.append(entry(20))
    expect(await drainAll(reopened, 3)).toEqual(ids(14, 21))
  })

  it('without a cursor file replays from the first segment: duplicates allowed, nothing lost, order kept', async () => {
    const dir = await dirs.make()
    const frame = encodeFrame(entry(10)).length
    const spool = await openSpool(dir, { segmentBytes: frame * 2 + 1 })
    await appendAll(spool, 10, 19)
    await spool.ack((await spool.read(3))!) // segment 1 delivered and deleted
    await spool.ack((await spool.read(1))!) // segment 2 one third delivered
    expect(await readFile(join(dir, 'cursor.json'), 'utf8')).toContain('"offset"')
    await spool.close()
    await unlink(join(dir, 'cursor.json'))

    const reopened = await openSpool(dir)
    const replayed = await drainAll(reopened)
    expect(replayed).toEqual(ids(13, 19))
    expect(replayed).toEqual(expect.arrayContaining(ids(14, 19)))
  })

  it('ignores an unreadable cursor file the same way (replay from the start, nothing lost)', async () => {
    const dir = await dirs.make()
    const spool = await openSpool(dir)
    await appendAll(spool, 0, 5)
    await spool.ack((await spool.read(2))!)
    await spool.close()
    await writeFile(join(dir, 'cursor.json'), '{"seq": "one", ')
    const reopened = await openSpool(dir)
    expect(await drainAll(reopened)).toEqual(ids(0, 5))
  })

  it('refuses with SPOOL_FULL beyond maxBytes, losing nothing it accepted, and takes events again once drained', async () => {
    const dir = await dirs.make()
    const three = frameBytes([entry(0), entry(1), entry(2)])
    const spool = await openSpool(dir, { maxBytes: three })
    const results = await Promise.allSettled(Array.from({ length: 5 }, (_, n) => spool.append(entry(n))))
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled', 'rejected', 'rejected'])
    for (const r of results.slice(3)) {
      const error = (r as PromiseRejectedResult).reason as unknown
      expect(error).toBeInstanceOf(BridgeError)
      expect((error as BridgeError).code).toBe(ErrorCodes.SPOOL_FULL)
      expect((error as BridgeError).retriable).toBe(false)
      expect(httpStatusOf[(error as BridgeError).code]).toBe(503)
      expect((error as Error).message).toContain(dir)
    }
    expect(spool.entries).toBe(3)
    expect(spool.bytes).toBe(three)
    expect((await rejection(spool.append(entry(9)))).code).toBe(ErrorCodes.SPOOL_FULL)

    await spool.close()
    const reopened = await openSpool(dir, { maxBytes: three })
    expect((await rejection(reopened.append(entry(9)))).code).toBe(ErrorCodes.SPOOL_FULL)
    expect(await drainAll(reopened)).toEqual(ids(0, 3))
    await expect(reopened.append(entry(3))).resolves.toBeUndefined()
    expect(await drainAll(reopened)).toEqual(['e-3'])
  })
})

describe('spool: recovery of damaged files', () => {
  async function lastSegment(dir: string): Promise<string> {
    return join(dir, (await segmentFiles(dir)).at(-1)!)
  }

  it('cuts a torn last entry (file cut short) and keeps every whole entry before it', async () => {
    for (const cut of [1, 3, FRAME_HEADER_BYTES, 100]) {
      const dir = await dirs.make()
      const spool = await openSpool(dir)
      await appendAll(spool, 0, 5)
      await spool.close()
      const path = await lastSegment(dir)
      const size = (await stat(path)).size
      await truncate(path, size - cut)

      const { logger, lines } = capturingLogger()
      const reopened = await openSpool(dir, { logger })
      expect(reopened.entries, `cut ${cut}`).toBe(4)
      expect((await stat(path)).size).toBe(frameBytes([entry(0), entry(1), entry(2), entry(3)]))
      expect(lines.find((l) => l['msg'] === 'spool: cut a torn last entry')).toMatchObject({ level: 'warn', path })
      await reopened.append(entry(5))
      expect(await drainAll(reopened)).toEqual(['e-0', 'e-1', 'e-2', 'e-3', 'e-5'])
    }
  })

  it('cuts a partial frame or garbage written after the last whole entry', async () => {
    const tails = [
      encodeFrame(entry(9)).subarray(0, 40), // a write torn mid-frame
      encodeFrame(entry(9)).subarray(0, 3), // torn inside the header
      Buffer.alloc(512), // zeros: the file grew but its data never landed
      Buffer.from('garbage garbage garbage garbage'),
    ]
    for (const tail of tails) {
      const dir = await dirs.make()
      const spool = await openSpool(dir)
      await appendAll(spool, 0, 3)
      await spool.close()
      const path = await lastSegment(dir)
      const whole = (await stat(path)).size
      await appendFile(path, tail)

      const reopened = await openSpool(dir)
      expect(reopened.entries).toBe(3)
      expect(reopened.bytes).toBe(whole)
      expect((await stat(path)).size).toBe(whole)
      expect(await drainAll(reopened)).toEqual(ids(0, 3))
    }
  })

  it('cuts a torn tail behind the cursor in a half-delivered last segment, replaying only the rest', async () => {
    const dir = await dirs.make()
    const spool = await openSpool(dir)
    await appendAll(spool, 0, 6)
    await spool.ack((await spool.read(2))!)
    await spool.close()
    await appendFile(await lastSegment(dir), encodeFrame(entry(6)).subarray(0, 50))
    const reopened = await openSpool(dir)
    expect(reopened.entries).toBe(4)
    expect(await drainAll(reopened)).toEqual(ids(2, 6))
  })

  it('sets aside a segment corrupt in the middle: keeps its valid prefix, keeps the damaged file as .corrupt, reads later segments', async () => {
    const dir = await dirs.make()
    const frame = encodeFrame(entry(10)).length
    const spool = await openSpool(dir, { segmentBytes: frame * 2 + 1 })
    await appendAll(spool, 10, 19) // three segments of three entries
    await spool.close()
    const files = await segmentFiles(dir)
    expect(files).toHaveLength(3)
    const middle = join(dir, files[1]!)
    const original = await readFile(middle)
    // Flip a body byte of the middle segment's second entry (e-14).
    const damaged = Buffer.from(original)
    const at = encodeFrame(entry(13)).length + frame - 5
    damaged[at] = damaged[at]! ^ 0xff
    await writeFile(middle, damaged)

    const { logger, lines } = capturingLogger()
    const reopened = await openSpool(dir, { logger })
    expect((await readFile(`${middle}.corrupt`)).equals(damaged)).toBe(true)
    expect((await stat(middle)).size).toBe(encodeFrame(entry(13)).length)
    expect(lines.find((l) => l['level'] === 'error')).toMatchObject({ path: middle, kept: `${middle}.corrupt` })
    expect(reopened.entries).toBe(3 + 1 + 3)
    expect(await drainAll(reopened)).toEqual(['e-10', 'e-11', 'e-12', 'e-13', 'e-16', 'e-17', 'e-18'])
    // The set-aside file stays for inspection; the delivered segments are gone.
    expect(await readdir(dir)).toContain(`${files[1]}.corrupt`)
    expect(await segmentFiles(dir)).toEqual([])
  })

  it('sets aside a non-last segment that ends in a torn frame (left by a failed write) without losing what follows', async () => {
    const dir = await dirs.make()
    const frame = encodeFrame(entry(10)).length
    const spool = await openSpool(dir, { segmentBytes: frame * 2 + 1 })
    await appendAll(spool, 10, 16) // two segments
    await spool.close()
    const files = await segmentFiles(dir)
    await appendFile(join(dir, files[0]!), encodeFrame(entry(99)).subarray(0, 20))
    const reopened = await openSpool(dir)
    expect(await drainAll(reopened)).toEqual(ids(10, 16))
  })

  it('opens an empty or missing folder, and a folder of only delivered history, with nothing to replay', async () => {
    const dir = await dirs.make()
    const missing = join(dir, 'not', 'yet')
    const spool = await openSpool(missing)
    expect(spool.entries).toBe(0)
    expect(await spool.read(10)).toBeUndefined()
    await spool.append(entry(1))
    expect(await segmentFiles(missing)).toHaveLength(1)
    expect(await drainAll(spool)).toEqual(['e-1'])
    await spool.close()
    const reopened = await openSpool(missing)
    expect(reopened.entries).toBe(0)
    expect(await reopened.read(10)).toBeUndefined()
  })
})

describe('spool: appends racing an ack that empties it', () => {
  it('accepts an append that arrives while the ack is deleting the delivered active segment', async () => {
    const dir = await dirs.make()
    const spool = await openSpool(dir)
    await spool.append(entry(0))
    const batch = (await spool.read(10))!
    // The drainer acks the last entry while a request is being spooled: both at once.
    const acked = spool.ack(batch)
    const appended = spool.append(entry(1))
    const [ackResult, appendResult] = await Promise.allSettled([acked, appended])
    expect(ackResult.status).toBe('fulfilled')
    expect(appendResult, 'the append was refused (a 503) although the spool had room').toEqual({ status: 'fulfilled', value: undefined })
    expect(await drainAll(spool)).toEqual(appendResult.status === 'fulfilled' ? ['e-1'] : [])
  })

  it('never loses an acknowledged append, whatever the timing against an ack that empties the spool', async () => {
    const lost: string[] = []
    for (let delay = 0; delay < 40; delay++) {
      const dir = await dirs.make()
      const spool = await openSpool(dir)
      await spool.append(entry(0))
      const batch = (await spool.read(10))!
      const acked = spool.ack(batch)
      for (let i = 0; i < delay; i++) await new Promise((resolve) => setImmediate(resolve))
      const appended = await spool.append(entry(1)).then(
        () => true,
        () => false, // refused: a 503, the client retries; not a loss
      )
      await acked
      if (!appended) continue
      const liveRead = await drainAll(spool)
      await spool.close()
      const reopened = await openSpool(dir)
      const afterRestart = await drainAll(reopened)
      if (!liveRead.includes('e-1') && !afterRestart.includes('e-1')) lost.push(`delay ${delay}: live read ${JSON.stringify(liveRead)}, after restart ${JSON.stringify(afterRestart)}`)
    }
    expect(lost, 'appends that resolved (2xx) but were never read back').toEqual([])
  })
})
