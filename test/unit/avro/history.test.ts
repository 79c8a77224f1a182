// Every published schema version is kept, the current one is the latest published, and each is FULL_TRANSITIVE compatible with all before it.
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { fullIncompatibilities } from '../../../src/avro/compatibility.js'
import { publishedVersions } from '../../../src/avro/history.js'
import { SCHEMA_NAMES, SCHEMAS_DIR } from '../../../src/avro/schemas.js'

const current = (name: string): { fields: { name: string }[] } => JSON.parse(readFileSync(`${SCHEMAS_DIR}${name}.avsc`, 'utf8'))

describe('schema history', () => {
  it.each(SCHEMA_NAMES)('%s: the current schema is the latest published version, numbered from v1 without gaps', (name) => {
    const versions = publishedVersions(name)
    expect(versions.length).toBeGreaterThan(0)
    expect(versions.map((v) => v.version)).toEqual(versions.map((_, i) => i + 1))
    // Changing schemas/<name>.avsc without publishing it as a new version fails here.
    expect(versions.at(-1)!.schema).toEqual(current(name))
  })

  it.each(SCHEMA_NAMES)('%s: every version reads and is read by every other one (FULL_TRANSITIVE)', (name) => {
    const versions = publishedVersions(name)
    for (const older of versions) {
      for (const newer of versions.filter((v) => v.version > older.version)) {
        expect(fullIncompatibilities(older.schema, newer.schema), `v${older.version} and v${newer.version}`).toEqual([])
      }
    }
  })

  it('v2 of the DV2000 and Servio schemas adds user_agent, nullable with a null default', () => {
    for (const name of ['dv2000_event', 'servio_change']) {
      const [v1, v2] = publishedVersions(name)
      const added = (v2!.schema as { fields: { name: string; type: unknown; default: unknown }[] }).fields.filter(
        (f) => !(v1!.schema as { fields: { name: string }[] }).fields.some((o) => o.name === f.name),
      )
      expect(added.map((f) => [f.name, f.type, f.default])).toEqual([['user_agent', ['null', 'string'], null]])
    }
  })

  it('names the field and the reason when a change breaks it, in the direction that breaks', () => {
    const v2 = current('dv2000_event') as { fields: { name: string }[] }
    const removed = { ...v2, fields: v2.fields.filter((f) => f.name !== 'service_name') }
    expect(fullIncompatibilities(v2, removed)).toEqual([{ direction: 'old consumers reading new records', reason: 'field service_name removed without a default' }])
    const required = { ...v2, fields: [...v2.fields, { name: 'floor', type: 'int' }] }
    expect(fullIncompatibilities(v2, required)).toEqual([{ direction: 'new consumers reading old records', reason: 'field floor added without a default' }])
    const optional = { ...v2, fields: [...v2.fields, { name: 'floor', type: ['null', 'int'], default: null }] }
    expect(fullIncompatibilities(v2, optional)).toEqual([])
  })
})
