// Schema texts beside the spool: never rewritten in place, never read back torn.
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterEach, expect, it } from 'vitest'
import { schemaHash } from '../../../src/avro/schemas.js'
import { createSchemaTexts } from '../../../src/delivery/spool/schema-texts.js'
import { tempDirs } from './spool-fixtures.js'

const dirs = tempDirs()
afterEach(() => dirs.cleanup())

const TEXT = '{"type":"record","name":"Event","fields":[{"name":"id","type":"string"}]}'
const SCHEMA = { text: TEXT, hash: schemaHash(TEXT) }

it('keeps a whole file untouched, replaces a torn one by a whole one, and never reads a torn text back', async () => {
  const spoolDir = await dirs.make('texts-')
  const path = join(spoolDir, 'schemas', `${SCHEMA.hash}.avsc`)
  await mkdir(join(spoolDir, 'schemas'))
  // What a crash during an in-place rewrite leaves: the file's name, half its text.
  await writeFile(path, TEXT.slice(0, 20))
  expect(await createSchemaTexts(spoolDir, []).textOf(SCHEMA.hash)).toBeUndefined()

  await createSchemaTexts(spoolDir, []).keep(SCHEMA)
  expect(await readFile(path, 'utf8')).toBe(TEXT)
  expect(await createSchemaTexts(spoolDir, []).textOf(SCHEMA.hash)).toBe(TEXT)

  // A later process keeps the same schema: the whole file is not written again (a crash then could not tear it).
  const before = await stat(path)
  await createSchemaTexts(spoolDir, []).keep(SCHEMA)
  const after = await stat(path)
  expect({ ino: after.ino, mtimeMs: after.mtimeMs }).toEqual({ ino: before.ino, mtimeMs: before.mtimeMs })
  expect(await readdir(join(spoolDir, 'schemas'))).toEqual([`${SCHEMA.hash}.avsc`])
})
