// The Servio component on the document's own examples: one record per (action, entity, id), topics, keys, filters (SPEC §3).
import { describe, expect, it } from 'vitest'
import type { ServioSourceConfig } from '../../../../src/sources/servio/options.js'
import { ErrorCodes } from '../../../../src/errors.js'
import { componentFor } from '../../../../src/sources/index.js'
import { servioSource } from '../../../../src/sources/servio/index.js'
import type { IngestResult } from '../../../../src/sources/source.js'
import { largeGuestBatch, SERVIO_EXAMPLES, servioFixture } from '../../../fixtures/servio/index.js'
import { bridgeErrorOf } from '../../thrown.js'

const RECEIVED_AT = new Date('2023-06-29T13:38:18.149Z')
const KYIV: ServioSourceConfig = { id: 'kyiv-central', type: 'servio', secrets: ['demo-servio-secret'], hotelId: '12' }
const ALL_HOTELS: ServioSourceConfig = { id: 'servio-all', type: 'servio', secrets: ['demo-servio-secret'] }

/** Ids in call order: the first is the batch id, then one per record. */
function sequentialIds(): { newId: () => string; issued: string[] } {
  const issued: string[] = []
  return {
    issued,
    newId: () => {
      const id = `00000000-0000-4000-8000-${String(issued.length).padStart(12, '0')}`
      issued.push(id)
      return id
    },
  }
}

function ingest(body: Buffer | string, source: ServioSourceConfig = KYIV): { result: IngestResult; issued: string[] } {
  const { newId, issued } = sequentialIds()
  const result = servioSource.ingest(Buffer.isBuffer(body) ? body : Buffer.from(body, 'utf8'), { source, receivedAt: RECEIVED_AT, newId })
  return { result, issued }
}

type Records = Extract<IngestResult, { kind: 'records' }>

function records(body: Buffer | string, source?: ServioSourceConfig): Records {
  const { result } = ingest(body, source)
  if (result.kind !== 'records') throw new Error(`expected records, got ${result.kind}`)
  return result
}

const TOPIC = { client: 'servio.clients', company: 'servio.companies', guest: 'servio.guests', room: 'servio.rooms' } as const

describe('servioSource.ingest on every example of the Servio document', () => {
  const accepted = SERVIO_EXAMPLES.filter((e) => e.changes !== undefined)
  const truncated = SERVIO_EXAMPLES.filter((e) => e.changes === undefined)

  it('has nine examples, two of them truncated', () => {
    expect(SERVIO_EXAMPLES).toHaveLength(9)
    expect(truncated.map((e) => e.file)).toEqual(['questionnaire-3-update-delete-clients-truncated.json', 'company-2-update-truncated.json'])
  })

  it.each(accepted.map((e) => [e.where, e] as const))('%s becomes its exact record', (_where, example) => {
    const { result, issued } = ingest(servioFixture(example.file))
    const batchId = issued[0]!
    expect(issued).toHaveLength(1 + example.changes!.length)
    expect(result).toEqual({
      kind: 'records',
      eventId: batchId,
      batchId,
      records: example.changes!.map((change, i) => ({
        topic: TOPIC[change.entity],
        key: String(change.id),
        schema: 'servio_change',
        headers: {
          event_id: issued[i + 1],
          source: 'kyiv-central',
          received_at: '2023-06-29T13:38:18.149Z',
          // Servio says nothing of when a change happened: ce_time is when it was received.
          ce_specversion: '1.0',
          ce_id: issued[i + 1],
          ce_source: '/v1/servio/kyiv-central',
          ce_type: `org.hotel-kafka-bridge.servio.${change.entity}.${change.action}`,
          ce_time: '2023-06-29T13:38:18.149Z',
          'content-type': 'application/avro',
        },
        value: {
          event_id: issued[i + 1],
          batch_id: batchId,
          source: 'kyiv-central',
          hotel_id: '12',
          received_at: RECEIVED_AT.getTime(),
          entity: change.entity,
          action: change.action,
          id: change.id,
          user_agent: null,
        },
      })),
    })
  })

  it.each(truncated.map((e) => [e.where, e] as const))('%s is refused with BAD_INPUT (dead letter), nothing produced', (_where, example) => {
    const body = servioFixture(example.file)
    const text = body.toString('utf8')
    // Exactly one object left open: the document lost the final "}", nothing else.
    expect(text.split('{').length - text.split('}').length).toBe(1)
    const { newId, issued } = sequentialIds()
    const error = bridgeErrorOf(() => servioSource.ingest(body, { source: KYIV, receivedAt: RECEIVED_AT, newId }))
    expect(error.code).toBe(ErrorCodes.BAD_INPUT)
    expect(error.retriable).toBe(false)
    expect(error.message).toMatch(/^the body is not valid JSON: /)
    expect(issued).toEqual([])
    // With its "}" back, the same line is a valid batch: only the truncation is wrong.
    expect(records(Buffer.concat([body, Buffer.from('}')])).records.length).toBeGreaterThan(0)
  })

  it('reads the truncated Questionnaire line, once completed, as 1 update and 7 deletes in body order', () => {
    const completed = Buffer.concat([servioFixture('questionnaire-3-update-delete-clients-truncated.json'), Buffer.from('}')])
    const result = records(completed)
    expect(result.records.map((r) => `${r.value['action']} ${r.value['entity']} ${r.key}`)).toEqual([
      'update client 1405',
      'delete client 2414',
      'delete client 3430',
      'delete client 12691',
      'delete client 12698',
      'delete client 12726',
      'delete client 12743',
      'delete client 12766',
    ])
    expect(new Set(result.records.map((r) => r.value['batch_id']))).toEqual(new Set([result.batchId]))
    expect(new Set(result.records.map((r) => r.headers.event_id)).size).toBe(8)
  })

  it('writes hotel_id null for a source without hotelId (a webhook for all hotels)', () => {
    const result = records(servioFixture('questionnaire-1-add-client.json'), ALL_HOTELS)
    expect(result.records[0]!.value).toMatchObject({ source: 'servio-all', hotel_id: null, entity: 'client', action: 'add', id: 12766 })
    expect(result.records[0]!.headers.source).toBe('servio-all')
  })

  it('refuses a batch of more changes than maxRecords (TOO_MANY_RECORDS) before issuing a single id, and takes one at the cap', () => {
    const { newId, issued } = sequentialIds()
    const body = Buffer.from(largeGuestBatch(101))
    const error = bridgeErrorOf(() => servioSource.ingest(body, { source: KYIV, receivedAt: RECEIVED_AT, newId, maxRecords: 100 }))
    expect(error.code).toBe(ErrorCodes.TOO_MANY_RECORDS)
    expect(error.message).toBe('the batch holds 101 changes, more than http.maxRecordsPerRequest (100) allows in one request')
    expect(issued).toEqual([])
    const atCap = servioSource.ingest(Buffer.from(largeGuestBatch(100)), { source: KYIV, receivedAt: RECEIVED_AT, newId, maxRecords: 100 })
    expect(atCap.kind === 'records' && atCap.records.length).toBe(100)
  })

  it('is the component registered for type servio', () => {
    expect(componentFor(KYIV)).toBe(servioSource)
    expect(servioSource.schema).toBe('servio_change')
  })
})

describe('Servio batches with nothing in them', () => {
  it.each([
    ['{"Add":null,"Update":null,"Delete":null}'],
    ['{}'],
    ['{"Add":{},"Update":{"Rooms":null,"Clients":null,"Companies":null,"Guests":null},"Delete":{"Guests":[]}}'],
    ['  {"Add" : null , "Update ":null}\n'],
  ])('%s is produced as zero records, not filtered', (body) => {
    const { result, issued } = ingest(body)
    expect(result).toEqual({ kind: 'records', eventId: issued[0], batchId: issued[0], records: [] })
  })

  it('an all-null batch is still zero records for a filtering source', () => {
    const { result } = ingest('{"Add":null,"Update":null,"Delete":null}', { ...KYIV, entities: ['guest'], actions: ['update'] })
    expect(result).toMatchObject({ kind: 'records', records: [] })
  })
})

describe('mixed Servio batches', () => {
  it('keeps body order across actions, entities and lists, duplicates and all, on one batch id', () => {
    const body = '{"Delete":{"Guests":[7,7],"Rooms":[160]},"Add":{"Guests":[7],"Companies":[1148,"1149"]},"Update":{"Clients":[12766],"Rooms":[160,161]}}'
    const { result, issued } = ingest(body)
    if (result.kind !== 'records') throw new Error('expected records')
    expect(result.records.map((r) => [r.topic, r.key, r.value['action'], r.value['entity'], r.value['id']])).toEqual([
      ['servio.guests', '7', 'delete', 'guest', 7],
      ['servio.guests', '7', 'delete', 'guest', 7],
      ['servio.rooms', '160', 'delete', 'room', 160],
      ['servio.guests', '7', 'add', 'guest', 7],
      ['servio.companies', '1148', 'add', 'company', 1148],
      ['servio.companies', '1149', 'add', 'company', 1149],
      ['servio.clients', '12766', 'update', 'client', 12766],
      ['servio.rooms', '160', 'update', 'room', 160],
      ['servio.rooms', '161', 'update', 'room', 161],
    ])
    expect(result.records.every((r) => r.value['batch_id'] === issued[0])).toBe(true)
    expect(result.records.map((r) => r.value['event_id'])).toEqual(issued.slice(1))
    expect(result.records.map((r) => r.headers.event_id)).toEqual(issued.slice(1))
  })

  it('merges keys that differ only in spacing or case, each where it stands in the body', () => {
    const body = '{"Update":{"Guests":[1]},"Add":{"guests":[2]},"Update ":{" GUESTS ":[3],"Guests":[4]},"update":null}'
    expect(records(body).records.map((r) => `${r.value['action']}:${r.value['id']}`)).toEqual(['update:1', 'add:2', 'update:3', 'update:4'])
  })
})

describe('Servio filters on entities and actions', () => {
  const mixed = '{"Add":{"Clients":[1],"Guests":[2]},"Update":{"Guests":[3],"Rooms":[4]},"Delete":{"Guests":[5],"Companies":[6]}}'
  const summary = (result: Records): string[] => result.records.map((r) => `${r.value['action']} ${r.value['entity']} ${r.key}`)

  it('produces only the entities a source takes', () => {
    expect(summary(records(mixed, { ...KYIV, entities: ['guest'] }))).toEqual(['add guest 2', 'update guest 3', 'delete guest 5'])
    expect(summary(records(mixed, { ...KYIV, entities: ['room', 'company'] }))).toEqual(['update room 4', 'delete company 6'])
  })

  it('produces only the actions a source takes', () => {
    expect(summary(records(mixed, { ...KYIV, actions: ['update'] }))).toEqual(['update guest 3', 'update room 4'])
  })

  it('applies both filters together', () => {
    expect(summary(records(mixed, { ...KYIV, entities: ['guest'], actions: ['update'] }))).toEqual(['update guest 3'])
  })

  it('answers filtered, with a reason and the batch id, when nothing remains', () => {
    const { result, issued } = ingest(servioFixture('company-1-add.json'), { ...KYIV, entities: ['guest'], actions: ['update'] })
    expect(issued).toHaveLength(1)
    expect(result).toEqual({ kind: 'filtered', eventId: issued[0], reason: "none of the batch's 1 change(s) is in this source's entities guest and actions update" })
    expect(ingest(mixed, { ...KYIV, actions: ['add'], entities: ['room'] }).result.kind).toBe('filtered')
  })

  it('still refuses a malformed batch rather than filtering it', () => {
    const body = servioFixture('company-2-update-truncated.json')
    expect(bridgeErrorOf(() => ingest(body, { ...KYIV, entities: ['guest'] })).code).toBe(ErrorCodes.BAD_INPUT)
    expect(bridgeErrorOf(() => ingest('{"Add":{"Companies":["x"]}}', { ...KYIV, entities: ['guest'] })).code).toBe(ErrorCodes.BAD_INPUT)
  })

  it('lists the topics a source can produce to, following its entities', () => {
    expect(servioSource.topics(KYIV)).toEqual(['servio.clients', 'servio.companies', 'servio.guests', 'servio.rooms', 'servio.other'])
    expect(servioSource.topics({ ...KYIV, entities: ['room', 'guest'] })).toEqual(['servio.guests', 'servio.rooms'])
    expect(servioSource.topics({ ...KYIV, entities: ['other'] })).toEqual(['servio.other'])
    expect(servioSource.topics({ ...KYIV, actions: ['delete'] })).toHaveLength(5)
  })

  it('names keys the document does not list "other" in a filter', () => {
    const newer = '{"Add":{"Reservations":[7],"Guests":[2]},"Merge":{"Guests":[8]}}'
    expect(summary(records(newer, { ...KYIV, entities: ['guest'] }))).toEqual(['add guest 2', 'merge guest 8'])
    expect(summary(records(newer, { ...KYIV, entities: ['other'] }))).toEqual(['add reservations 7'])
    expect(summary(records(newer, { ...KYIV, actions: ['add'] }))).toEqual(['add reservations 7', 'add guest 2'])
    expect(summary(records(newer, { ...KYIV, actions: ['other'] }))).toEqual(['merge guest 8'])
  })
})

describe('a newer Servio: entity and action keys the document does not list', () => {
  const topics = (result: Records): string[] => result.records.map((r) => `${r.topic} ${r.value['action']} ${r.value['entity']} ${r.key}`)

  it('produces Reservations to servio.other and the Rooms of the same batch as always', () => {
    expect(topics(records('{"Add":{"Reservations":[5],"Rooms":[160]},"Update ":{" Reservations ":["6"]}}', KYIV))).toEqual([
      'servio.other add reservations 5',
      'servio.rooms add room 160',
      'servio.other update reservations 6',
    ])
  })

  it('keeps an unknown action\'s lower-cased name, its entities on their usual topics', () => {
    expect(topics(records('{"Merge ":{"Guests":[3],"Bookings":[4]},"Delete":{"Clients":[1]}}', KYIV))).toEqual([
      'servio.guests merge guest 3',
      'servio.other merge bookings 4',
      'servio.clients delete client 1',
    ])
  })

  it('sends a key that only looks like a listed one ("Guest", not "Guests") to servio.other, and filters it as other', () => {
    expect(topics(records('{"Add":{"Guest":[9],"Guests":[10]}}', KYIV))).toEqual(['servio.other add guest 9', 'servio.guests add guest 10'])
    expect(topics(records('{"Add":{"Guest":[9],"Guests":[10]}}', { ...KYIV, entities: ['guest'] }))).toEqual(['servio.guests add guest 10'])
  })

  it('still refuses the whole batch when an unknown entity\'s ids are not ids', () => {
    const error = bridgeErrorOf(() => ingest('{"Add":{"Rooms":[160],"Reservations":["R-17"]}}', KYIV))
    expect(error.code).toBe(ErrorCodes.BAD_INPUT)
    expect(error.message).toBe('Add.Reservations[0] must be an integer id, got "R-17"')
  })
})

describe('a large Servio batch', () => {
  it('turns 10,000 ids into 10,000 records with distinct event ids and one batch id', () => {
    const body = largeGuestBatch(10_000)
    expect(body.length).toBeLessThan(1_048_576)
    const { result, issued } = ingest(body)
    if (result.kind !== 'records') throw new Error('expected records')
    expect(result.records).toHaveLength(10_000)
    expect(issued).toHaveLength(10_001)
    expect(result.records[0]!.key).toBe('1')
    expect(result.records[9_999]!.key).toBe('10000')
    expect(new Set(result.records.map((r) => r.headers.event_id)).size).toBe(10_000)
    expect(result.records.every((r) => r.value['batch_id'] === result.batchId && r.topic === 'servio.guests')).toBe(true)
  })
})
