// A real full disk for tests (they run as root): a small tmpfs, mounted on a temp folder and unmounted in teardown.
import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync, statfsSync, writeFileSync } from 'node:fs'
import { unlink } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export interface SmallDisk {
  dir: string
  /** Fills the disk until fewer than `leaveBytes` are free (one filler file); `free()` removes it again. */
  fill(leaveBytes?: number): void
  free(): Promise<void>
  availableBytes(): number
  unmount(): void
}

/** Throws, loudly, where tmpfs cannot be mounted: a test that needs a full disk never skips. */
export function mountSmallDisk(sizeBytes: number): SmallDisk {
  const dir = mkdtempSync(join(tmpdir(), 'hkb-small-disk-'))
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeBytes}`, 'tmpfs', dir])
  const filler = join(dir, 'filler')
  const availableBytes = (): number => {
    const s = statfsSync(dir)
    return s.bavail * s.bsize
  }
  return {
    dir,
    availableBytes,
    fill(leaveBytes = 0) {
      const take = availableBytes() - leaveBytes
      if (take > 0) writeFileSync(filler, Buffer.alloc(take), { flag: 'a' })
      if (leaveBytes > 0) return
      // What statfs did not count (a page freed meanwhile): eaten a page at a time until the disk says no.
      for (let page = 0; page < 1_024; page++) {
        try {
          writeFileSync(filler, Buffer.alloc(4096), { flag: 'a' })
        } catch {
          return
        }
      }
    },
    async free() {
      await unlink(filler).catch(() => undefined)
    },
    unmount() {
      execFileSync('umount', ['-l', dir])
      rmSync(dir, { recursive: true, force: true })
    },
  }
}
