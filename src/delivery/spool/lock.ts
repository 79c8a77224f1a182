// One process per spool folder: an OS lock on spool.dir/LOCK that the kernel drops when the process dies, kill -9 included
// (and the same kind of lock for one `spool rejected --replay` at a time).
import { open, readFile, type FileHandle } from 'node:fs/promises'
import { join } from 'node:path'
import { tryLock } from 'fs-native-extensions'
import { BridgeError, ErrorCodes } from '../../errors.js'

export interface SpoolLock {
  release(): Promise<void>
}

export const LOCK_FILE = 'LOCK'

/**
 * Takes the folder's lock or refuses with SPOOL_LOCKED naming the folder (and the holder's pid, written for
 * people). Two bridges on one folder would share segment numbers and delete each other's segments.
 * No stale lock is possible: nothing but the open file holds it.
 */
export function lockSpool(dir: string): Promise<SpoolLock> {
  return lockFile(join(dir, LOCK_FILE), (pid) => `the spool folder ${dir} is in use by another process${pid}: each bridge needs a spool.dir of its own`)
}

/** The same kind of lock on any file; `busy` words the refusal, given " (pid N)" or "". */
export async function lockFile(path: string, busy: (pid: string) => string): Promise<SpoolLock> {
  // 'a+' neither truncates the holder's pid nor fails when the file exists.
  const handle: FileHandle = await open(path, 'a+')
  let locked = false
  try {
    locked = tryLock(handle.fd)
  } finally {
    if (!locked) await handle.close()
  }
  if (!locked) {
    const holder = (await readFile(path, 'utf8').catch(() => '')).trim()
    throw new BridgeError(ErrorCodes.SPOOL_LOCKED, busy(/^\d+$/.test(holder) ? ` (pid ${holder})` : ''))
  }
  await handle.truncate(0)
  await handle.write(`${process.pid}\n`)
  return {
    // Closing the descriptor is what releases the lock.
    release: () => handle.close(),
  }
}
