// The published versions of each schema, kept in schemas/history/<name>/v<N>.avsc: what `schemas check --offline` and the tests compare with.
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { SCHEMAS_DIR } from './schemas.js'

export interface PublishedVersion {
  version: number
  file: string
  schema: unknown
}

/** Oldest first; empty when the schema has no history (a sender that never published one). */
export function publishedVersions(name: string, schemasDir: string = SCHEMAS_DIR): PublishedVersion[] {
  const dir = join(schemasDir, 'history', name)
  let files: string[]
  try {
    files = readdirSync(dir)
  } catch {
    return []
  }
  return files
    .map((file) => ({ file, match: /^v(\d+)\.avsc$/.exec(file) }))
    .filter((f): f is { file: string; match: RegExpExecArray } => f.match !== null)
    .map(({ file, match }) => ({ version: Number(match[1]), file: join(dir, file), schema: JSON.parse(readFileSync(join(dir, file), 'utf8')) as unknown }))
    .sort((a, b) => a.version - b.version)
}
