// A new segment whose folder cannot be fsynced (an I/O error a test cannot make for real): no handle or file left behind.
import { readdir, readlink } from 'node:fs/promises'
import type * as segments from '../../../src/delivery/spool/segments.js'
import { afterEach, expect, it, vi } from 'vitest'
import { drainAll, entry, spoolsOnDisk } from './spool-fixtures.js'

const fault = { failDirSync: false }
vi.mock('../../../src/delivery/spool/segments.js', async (importOriginal) => {
  const actual = await importOriginal<typeof segments>()
  return {
    ...actual,
    async fsyncDir(dir: string) {
      if (fault.failDirSync) throw Object.assign(new Error('EIO: i/o error, fsync'), { code: 'EIO' })
      return actual.fsyncDir(dir)
    },
  }
})

const spools = spoolsOnDisk({ maxBytes: 1 << 20 })
afterEach(async () => {
  fault.failDirSync = false
  await spools.cleanup()
})

/** Descriptors of this process open on files in `dir`. */
async function openIn(dir: string): Promise<number> {
  let count = 0
  for (const fd of await readdir('/proc/self/fd')) {
    const target = await readlink(`/proc/self/fd/${fd}`).catch(() => '')
    if (target.startsWith(`${dir}/`)) count++
  }
  return count
}

it('closes and removes a segment it could not make durable, and uses a new one once the folder syncs again', async () => {
  const dir = await spools.dirs.make()
  const spool = await spools.open(dir)
  const locked = await openIn(dir)
  fault.failDirSync = true
  for (let n = 0; n < 5; n++) await expect(spool.append(entry(n))).rejects.toThrow(/EIO/)
  expect(await openIn(dir)).toBe(locked)
  expect((await readdir(dir)).filter((n) => n.endsWith('.seg'))).toEqual([])

  fault.failDirSync = false
  await spool.append(entry(5))
  await spool.close()
  expect(await drainAll(await spools.open(dir))).toEqual(['e-5'])
})
