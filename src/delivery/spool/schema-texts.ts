// Schema texts beside the spool, by hash: a spooled body is replayed with the very schema it was written with.
import { randomUUID } from 'node:crypto'
import { readFile, rename, unlink, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { schemaHash } from '../../avro/schemas.js'
import type { SchemaRef } from '../types.js'
import { fsyncDir } from './segments.js'
import { ensureDir } from './ensure-dir.js'

export interface SchemaTexts {
  /** Makes `schema` durable before the first entry that names it is. */
  keep(schema: SchemaRef): Promise<void>
  textOf(hash: string): Promise<string | undefined>
}

/** The file's text if it is whole: its hash is its name, so a torn or altered file is never taken for the schema. */
async function readWhole(path: string, hash: string): Promise<string | undefined> {
  const text = await readFile(path, 'utf8').catch(() => undefined)
  return text !== undefined && schemaHash(text) === hash ? text : undefined
}

export function createSchemaTexts(spoolDir: string, known: readonly SchemaRef[]): SchemaTexts {
  const dir = join(spoolDir, 'schemas')
  const texts = new Map(known.map((s) => [s.hash, s.text]))
  const kept = new Map<string, Promise<void>>()

  /** Written beside and renamed over: a crash leaves the old file or the new one, whole, never a part of either. */
  async function write(schema: SchemaRef): Promise<void> {
    await ensureDir(dir)
    const path = join(dir, `${schema.hash}.avsc`)
    if ((await readWhole(path, schema.hash)) !== undefined) return
    const tmp = `${path}.${randomUUID().slice(0, 8)}.tmp`
    try {
      await writeFile(tmp, schema.text, { flush: true })
      await rename(tmp, path)
    } catch (error) {
      await unlink(tmp).catch(() => undefined)
      throw error
    }
    await fsyncDir(dir)
  }

  return {
    keep(schema) {
      let done = kept.get(schema.hash)
      if (done === undefined) {
        done = write(schema)
        // A failed write is tried again by the next entry.
        done.catch(() => kept.delete(schema.hash))
        kept.set(schema.hash, done)
      }
      return done
    },
    async textOf(hash) {
      const known = texts.get(hash)
      if (known !== undefined) return known
      const text = await readWhole(join(dir, `${hash}.avsc`), hash)
      if (text !== undefined) texts.set(hash, text)
      return text
    },
  }
}
