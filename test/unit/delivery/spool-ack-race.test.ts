// The spool when an append opens a new segment while an ack is still deleting the delivered one: file calls gated by hand.
import * as realFs from 'node:fs/promises'
import { readdir } from 'node:fs/promises'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { drainAll, entry, spoolsOnDisk } from './spool-fixtures.js'

/** A promise the test resolves, and one that says when the gated call was reached. */
function gate() {
  let open: () => void = () => undefined
  let reached: () => void = () => undefined
  return {
    opened: new Promise<void>((resolve) => (open = resolve)),
    reachedAt: new Promise<void>((resolve) => (reached = resolve)),
    open: () => open(),
    reach: () => reached(),
  }
}

const gates: { unlink?: ReturnType<typeof gate>; openSegment?: ReturnType<typeof gate> } = {}

vi.mock('node:fs/promises', async (importOriginal) => {
  const actual = await importOriginal<typeof realFs>()
  return {
    ...actual,
    async unlink(path: Parameters<typeof actual.unlink>[0]) {
      const g = gates.unlink
      if (g !== undefined && String(path).endsWith('.seg')) {
        gates.unlink = undefined
        g.reach()
        await g.opened
      }
      return actual.unlink(path)
    },
    async open(path: Parameters<typeof actual.open>[0], flags?: Parameters<typeof actual.open>[1]) {
      const g = gates.openSegment
      if (g !== undefined && String(path).endsWith('.seg') && flags === 'a') {
        gates.openSegment = undefined
        g.reach()
        await g.opened
      }
      return actual.open(path, flags)
    },
  }
})

const spools = spoolsOnDisk({ maxBytes: 1 << 20 })
const dirs = spools.dirs
const openSpool = spools.open
afterEach(async () => {
  gates.unlink = undefined
  gates.openSegment = undefined
  await spools.cleanup()
})

describe('spool: an append that opens a segment while an ack deletes the last delivered one', () => {
  it('reads the new entry back, now and after a restart (it was acknowledged as durable)', async () => {
    const dir = await dirs.make()
    const spool = await openSpool(dir)
    await spool.append(entry(0))
    const batch = (await spool.read(10))!

    // 1. The drainer acks the last entry: the active segment is closed, and its unlink is held.
    const unlinkGate = (gates.unlink = gate())
    const acked = spool.ack(batch)
    await unlinkGate.reachedAt

    // 2. A request is spooled now: it opens segment 2, and that open is held.
    const openGate = (gates.openSegment = gate())
    const appended = spool.append(entry(1))
    await new Promise((resolve) => setImmediate(resolve))

    // 3. The unlink finishes first (as it usually does: one system call against three), then the open.
    unlinkGate.open()
    await acked
    openGate.open()
    await appended // the 202 goes out here: the entry is fsynced
    expect(spool.entries).toBe(1)

    const segments = (await readdir(dir)).filter((n) => n.endsWith('.seg'))
    const cursor = await realFs.readFile(`${dir}/cursor.json`, 'utf8')
    const live = await spool.read(10)
    // Later requests go behind it.
    await spool.append(entry(2))
    await spool.close()
    const reopened = await openSpool(dir)
    const afterRestart = { entries: reopened.entries, read: await drainAll(reopened) }
    expect({ live: live?.entries.length ?? 0, afterRestart }, `segments ${segments.join(',')}, cursor.json ${cursor}`).toEqual({
      live: 1,
      afterRestart: { entries: 2, read: ['e-1', 'e-2'] },
    })
  })
})
