// One process per spool folder: a second opener is refused naming the folder, and a killed holder leaves no stale lock.
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { afterEach, describe, expect, it } from 'vitest'
import { ErrorCodes } from '../../../src/errors.js'
import { entry, spoolsOnDisk } from './spool-fixtures.js'

const spools = spoolsOnDisk()
afterEach(() => spools.cleanup())

const LOCK_MODULE = fileURLToPath(new URL('../../../src/delivery/spool/lock.ts', import.meta.url))

/** Another process that takes the folder's lock, says so, and holds it until killed. */
async function holderProcess(dir: string) {
  const child = spawn(process.execPath, ['--import', 'tsx', '-e', `import(${JSON.stringify(LOCK_MODULE)}).then(async (m) => { await m.lockSpool(${JSON.stringify(dir)}); console.log('locked'); setInterval(() => {}, 1000) })`], {
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => chunk.toString().includes('locked') && resolve())
    child.once('exit', (code) => reject(new Error(`lock holder exited with ${code}`)))
  })
  return child
}

describe('spool lock', () => {
  it('names the folder when it cannot be created or locked at all', async () => {
    const parent = await spools.dirs.make()
    const file = `${parent}/not-a-folder`
    await import('node:fs/promises').then((fs) => fs.writeFile(file, 'x'))
    const refused = await spools.open(`${file}/spool`).then(
      () => undefined,
      (error: unknown) => error as { code?: string; message: string },
    )
    expect(refused?.code).toBe(ErrorCodes.SPOOL_FAILED)
    expect(refused?.message).toMatch(new RegExp(`^cannot use the spool folder ${file}/spool: ENOTDIR`))
  })

  it('refuses a second spool on the same folder in this process, and takes it once the first is closed', async () => {
    const dir = await spools.dirs.make()
    const first = await spools.open(dir)
    await first.append(entry(1))
    const refused = await spools.open(dir).then(
      () => undefined,
      (error: unknown) => error as { code?: string; message: string },
    )
    expect(refused?.code).toBe(ErrorCodes.SPOOL_LOCKED)
    expect(refused?.message).toContain(dir)
    expect(refused?.message).toContain(`(pid ${process.pid})`)
    // The refused opener touched nothing: the holder's entry is intact.
    expect(first.entries).toBe(1)
    await first.close()
    const second = await spools.open(dir)
    expect(second.entries).toBe(1)
  })

  it('refuses while another process holds the folder, and takes it at once after that process is kill -9ed', async () => {
    const dir = await spools.dirs.make()
    const holder = await holderProcess(dir)
    try {
      const refused = await spools.open(dir).then(
        () => undefined,
        (error: unknown) => error as { code?: string; message: string },
      )
      expect(refused?.code).toBe(ErrorCodes.SPOOL_LOCKED)
      expect(refused?.message).toContain(`(pid ${holder.pid})`)
    } finally {
      holder.kill('SIGKILL')
      await new Promise((resolve) => holder.once('exit', resolve))
    }
    const spool = await spools.open(dir)
    expect(spool.entries).toBe(0)
  })
})
