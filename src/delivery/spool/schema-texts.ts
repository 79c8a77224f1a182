// Schema texts beside the spool, by hash: a spooled body is replayed with the very schema it was written with.
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { SchemaRef } from '../types.js'
import { fsyncDir } from './segments.js'
import { ensureDir } from './ensure-dir.js'

export interface SchemaTexts {
  /** Makes `schema` durable before the first entry that names it is. */
  keep(schema: SchemaRef): Promise<void>
  textOf(hash: string): Promise<string | undefined>
}

export function createSchemaTexts(spoolDir: string, known: readonly SchemaRef[]): SchemaTexts {
  const dir = join(spoolDir, 'schemas')
  const texts = new Map(known.map((s) => [s.hash, s.text]))
  const kept = new Map<string, Promise<void>>()
  return {
    keep(schema) {
      let done = kept.get(schema.hash)
      if (done === undefined) {
        done = (async () => {
          await ensureDir(dir)
          await writeFile(join(dir, `${schema.hash}.avsc`), schema.text, { flush: true })
          await fsyncDir(dir)
        })()
        // A failed write is tried again by the next entry.
        done.catch(() => kept.delete(schema.hash))
        kept.set(schema.hash, done)
      }
      return done
    },
    async textOf(hash) {
      const known = texts.get(hash)
      if (known !== undefined) return known
      try {
        const text = await readFile(join(dir, `${hash}.avsc`), 'utf8')
        texts.set(hash, text)
        return text
      } catch {
        return undefined
      }
    },
  }
}
