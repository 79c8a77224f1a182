// Creates a folder and its parents. Node's mkdir({ recursive: true }) loops for ever (a core at 100 %) when a
// special filesystem (/proc, /sys) answers ENOENT for a folder whose parent exists: a mistyped spool.dir then
// hangs the start instead of failing it.
import { mkdir, stat } from 'node:fs/promises'
import { dirname } from 'node:path'

const code = (error: unknown): string | undefined => (error as NodeJS.ErrnoException).code

async function mkdirOnce(dir: string): Promise<void> {
  try {
    await mkdir(dir)
  } catch (error) {
    // Made meanwhile (by a parent call, or another process), or there already: fine if it is a folder.
    if (code(error) === 'EEXIST' && (await stat(dir)).isDirectory()) return
    throw error
  }
}

export async function ensureDir(dir: string): Promise<void> {
  try {
    await mkdirOnce(dir)
  } catch (error) {
    const parent = dirname(dir)
    if (code(error) !== 'ENOENT' || parent === dir) throw error
    // Parents first, each at most once: the depth is the path's, never a retry loop.
    await ensureDir(parent)
    await mkdirOnce(dir)
  }
}
