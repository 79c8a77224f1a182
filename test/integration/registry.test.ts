// The registry edge against the real registry: lookup, first registration, evolution, refusals and outages.
import { randomUUID } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { inject } from 'vitest'
import { createSchemaIds } from '../../src/avro/registry.js'
import { loadSchemas } from '../../src/avro/schemas.js'
import { BridgeError } from '../../src/errors.js'

const url = (): string => inject('schemaRegistryUrl')
const dv2000 = (): string => loadSchemas().get('dv2000_event')!.text

async function registry(method: string, path: string, body?: unknown): Promise<{ status: number; json: unknown }> {
  const response = await fetch(`${url()}${path}`, {
    method,
    headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  })
  return { status: response.status, json: await response.json() }
}

describe('schema registration', () => {
  it('registers a new subject once, with FULL_TRANSITIVE of its own (SPEC §3), and finds it again without writing', async () => {
    const subject = `reg-${randomUUID()}-value`
    const first = createSchemaIds({ url: url() })
    const id = await first.idFor(subject, dv2000())
    expect(first.cachedId(subject, dv2000())).toBe(id)
    expect((await registry('GET', `/config/${subject}`)).json).toMatchObject({ compatibilityLevel: 'FULL_TRANSITIVE' })
    // A restarted bridge: a fresh cache finds the same id, and no second version appears.
    expect(await createSchemaIds({ url: url() }).idFor(subject, dv2000())).toBe(id)
    expect((await registry('GET', `/subjects/${subject}/versions`)).json).toEqual([1])
  })

  it('adds a version to a subject someone else created (no compatibility of its own) when the change is compatible', async () => {
    const subject = `reg-${randomUUID()}-value`
    const older = JSON.parse(dv2000()) as { fields: { name: string }[] }
    older.fields = older.fields.filter((f) => f.name !== 'extra_json')
    const created = await registry('POST', `/subjects/${subject}/versions`, { schema: JSON.stringify(older) })
    expect(created.status).toBe(200)
    const id = await createSchemaIds({ url: url() }).idFor(subject, dv2000())
    expect(id).not.toBe((created.json as { id: number }).id)
    expect((await registry('GET', `/subjects/${subject}/versions`)).json).toEqual([1, 2])
  })

  it('refuses an incompatible schema as non-retriable and an unreachable registry as retriable', async () => {
    const subject = `reg-${randomUUID()}-value`
    const ids = createSchemaIds({ url: url() })
    await ids.idFor(subject, dv2000())
    const incompatible = JSON.parse(dv2000()) as { fields: { name: string; type: unknown; default?: unknown }[] }
    incompatible.fields.push({ name: 'mandatory_new_field', type: 'string' })
    const refused = await ids.idFor(subject, JSON.stringify(incompatible)).catch((e: unknown) => e)
    expect(refused).toBeInstanceOf(BridgeError)
    expect(refused).toMatchObject({ code: 'REGISTRY_REJECTED', retriable: false })

    const away = await createSchemaIds({ url: 'http://127.0.0.1:1/apis/ccompat/v7', timeoutMs: 1_000 })
      .idFor(subject, dv2000())
      .catch((e: unknown) => e)
    expect(away).toMatchObject({ code: 'REGISTRY_UNAVAILABLE', retriable: true })
  })
})
