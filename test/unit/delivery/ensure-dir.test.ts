// Folder creation that fails, rather than spins, where node's recursive mkdir loops for ever.
import { stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { ensureDir } from '../../../src/delivery/spool/ensure-dir.js'
import { tempDirs } from './spool-fixtures.js'

const dirs = tempDirs()
afterEach(() => dirs.cleanup())

describe('ensureDir', () => {
  it('creates a folder and its parents, and accepts one that exists', async () => {
    const root = await dirs.make()
    const deep = join(root, 'a', 'b', 'c')
    await ensureDir(deep)
    await ensureDir(deep)
    expect((await stat(deep)).isDirectory()).toBe(true)
  })

  it('refuses a path through a file, and a folder /proc will not create (where mkdir recursive spins at 100 %)', async () => {
    const root = await dirs.make()
    await writeFile(join(root, 'file'), 'x')
    await expect(ensureDir(join(root, 'file', 'spool'))).rejects.toMatchObject({ code: 'ENOTDIR' })
    await expect(ensureDir(join(root, 'file'))).rejects.toMatchObject({ code: 'EEXIST' })
    await expect(ensureDir('/proc/hotel-kafka-bridge-spool/x')).rejects.toMatchObject({ code: 'ENOENT' })
  })
})
