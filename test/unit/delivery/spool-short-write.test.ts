// The spool when the disk takes only part of a group commit: Node's writev then resolves with a short count, not an error.
import type * as fsPromises from 'node:fs/promises'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { drainAll, entry, spoolsOnDisk } from './spool-fixtures.js'

/**
 * A segment file can grow to `bytes` at most. Past it the first write stops short and the next fails (ENOSPC, EFBIG);
 * libuv's write loop then reports the bytes it did write and drops the error. This is what
 * `ulimit -f 1` (with SIGXFSZ ignored) shows with a real FileHandle.writev: 1024 of 1400 bytes, resolved, no error.
 */
const limit = { bytes: Number.POSITIVE_INFINITY }

vi.mock('node:fs/promises', async (importOriginal) => {
  const actual = await importOriginal<typeof fsPromises>()
  return {
    ...actual,
    async open(...args: Parameters<typeof actual.open>) {
      const handle = await actual.open(...args)
      if (!String(args[0]).endsWith('.seg') || args[1] !== 'a') return handle
      return new Proxy(handle, {
        get(target, property) {
          if (property === 'writev') {
            return async (buffers: Buffer[]) => {
              const all = Buffer.concat(buffers)
              const room = Math.max(0, limit.bytes - (await target.stat()).size)
              if (room === 0) throw Object.assign(new Error('EFBIG: file too large, write'), { code: 'EFBIG' })
              const { bytesWritten } = await target.write(all.subarray(0, Math.min(room, all.length)))
              return { bytesWritten, buffers }
            }
          }
          const value: unknown = Reflect.get(target, property, target)
          return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value
        },
      })
    },
  }
})

const spools = spoolsOnDisk({ maxBytes: 1 << 20 })
const dirs = spools.dirs
const openSpool = spools.open
afterEach(async () => {
  limit.bytes = Number.POSITIVE_INFINITY
  await spools.cleanup()
})

describe('spool: a write the disk takes only in part', () => {
  it('acknowledges no entry that is not on disk', async () => {
    const dir = await dirs.make()
    const spool = await openSpool(dir)
    limit.bytes = 1024 // about four and a half entries
    const results = await Promise.allSettled(Array.from({ length: 8 }, (_, n) => spool.append(entry(n))))
    const acknowledged = results.flatMap((r, n) => (r.status === 'fulfilled' ? [`e-${n}`] : []))
    await spool.close()
    limit.bytes = Number.POSITIVE_INFINITY

    const reopened = await openSpool(dir)
    const onDisk = await drainAll(reopened)
    expect({ acknowledged, onDisk }).toEqual({ acknowledged, onDisk: expect.arrayContaining(acknowledged) as unknown })
  })
})
