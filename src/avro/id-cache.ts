// Registry ids on disk (subject + schema hash → id): after first use a schema needs no registry, even after a restart.
import { readFileSync } from 'node:fs'
import { rename, writeFile } from 'node:fs/promises'

export function loadIdCache(file: string): Map<string, number> {
  const ids = new Map<string, number>()
  let parsed: unknown
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'))
  } catch {
    return ids
  }
  if (typeof parsed === 'object' && parsed !== null) {
    for (const [key, id] of Object.entries(parsed)) if (typeof id === 'number') ids.set(key, id)
  }
  return ids
}

export async function saveIdCache(file: string, ids: ReadonlyMap<string, number>): Promise<void> {
  const tmp = `${file}.tmp`
  await writeFile(tmp, JSON.stringify(Object.fromEntries(ids)), { flush: true })
  await rename(tmp, file)
}
