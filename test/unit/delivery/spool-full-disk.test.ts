// The spool on a real full disk (a small tmpfs): failed writes leave nothing behind, and it writes again once there is room.
import { readdir } from 'node:fs/promises'
import { afterEach, describe, expect, it } from 'vitest'
import { mountSmallDisk, type SmallDisk } from '../../support/small-disk.js'
import { drainAll, entry, spoolsOnDisk } from './spool-fixtures.js'

const spools = spoolsOnDisk({ maxBytes: 1 << 20 })
const disks: SmallDisk[] = []
afterEach(async () => {
  await spools.cleanup()
  for (const disk of disks.splice(0)) disk.unmount()
})

const segmentFiles = async (dir: string): Promise<string[]> => (await readdir(dir)).filter((n) => n.endsWith('.seg'))

describe('spool: a full disk', () => {
  it('refuses while the disk is full without a segment file per failed write, and takes entries again once there is room', async () => {
    const disk = mountSmallDisk(256 * 1024)
    disks.push(disk)
    const spool = await spools.open(disk.dir)
    await spool.append(entry(0))
    disk.fill()
    const results = []
    for (let n = 1; n <= 20; n++) results.push(await spool.append(entry(n, 8192)).then(() => 'stored', (e: Error) => e.message))
    expect(results.every((r) => /could not write/.test(r)), results.join('\n')).toBe(true)
    // One segment, cut back to its one durable entry, whatever the number of failed writes.
    expect(await segmentFiles(disk.dir)).toHaveLength(1)
    expect(spool.entries).toBe(1)

    await disk.free()
    await spool.append(entry(21))
    expect(spool.entries).toBe(2)
    await spool.close()
    const reopened = await spools.open(disk.dir)
    expect(await drainAll(reopened)).toEqual(['e-0', 'e-21'])
  })
})
