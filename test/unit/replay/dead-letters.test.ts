// What a dead letter becomes under today's parser and config (planReplay), the ids it gets, and the CLI's time options.
import avsc from 'avsc'
import { describe, expect, it } from 'vitest'
import { loadSchemaFiles } from '../../../src/avro/schemas.js'
import { parseInstant } from '../../../src/cli/replay.js'
import { exitCodeOf, UsageError } from '../../../src/cli/usage.js'
import { validateConfig } from '../../../src/config/load.js'
import { BridgeError, ErrorCodes } from '../../../src/errors.js'
import { deadLetterTopics, planReplay, replayIds, type DeadLetter } from '../../../src/replay/dead-letters.js'
import { builtInSources } from '../../../src/sources/index.js'
import { rawPostExample, roomUpdateText } from '../../fixtures/dv2000/index.js'
import { servioFixture } from '../../fixtures/servio/index.js'

const schemas = loadSchemaFiles(builtInSources.schemaFiles)
const config = validateConfig({
  topicPrefix: 'h7.',
  spool: { dir: '/tmp/unused-spool' },
  sources: [
    { id: 'front-desk', type: 'dv2000', secrets: ['secret-of-8'], topics: { 'bridge.deadletter': 'h7-refused' } },
    { id: 'lobby', type: 'dv2000', secrets: ['secret-of-8'], categories: [3] },
    { id: 'kyiv-central', type: 'servio', secrets: ['secret-of-8'], hotelId: '12' },
  ],
})
const FROM = 'h7.bridge.deadletter/2/40'
const RECEIVED = Date.parse('2026-11-20T07:15:00.250Z')

function letter(source: string, body: Buffer | string, extra: Partial<DeadLetter> = {}): DeadLetter {
  return {
    event_id: '0b7f1c56-4a1e-4f39-9a57-6f3f3c1d2e10',
    source,
    source_type: 'dv2000',
    received_at: RECEIVED,
    reason: 'refused by an older version',
    content_type: 'application/json',
    remote_address: '10.0.0.9',
    body: Buffer.isBuffer(body) ? body : Buffer.from(body),
    ...extra,
  }
}

const decode = (schema: string, body: Buffer): Record<string, unknown> => schemas.get(schema)!.type.fromBuffer(body) as Record<string, unknown>

describe('planReplay', () => {
  it('replays the DV2000 document\'s example under its dead letter\'s event_id, receipt time and User-Agent, with replayed_from', () => {
    const plan = planReplay(letter('front-desk', roomUpdateText(), { user_agent: 'DuVoice/8.0.20' }), FROM, config, builtInSources, schemas)
    expect(plan.kind).toBe('replay')
    if (plan.kind !== 'replay') return
    expect(plan.topics).toEqual(['h7.dv2000.hospitality'])
    const [record] = plan.records
    expect(record).toMatchObject({
      topic: 'h7.dv2000.hospitality',
      key: '100-101',
      headers: { event_id: '0b7f1c56-4a1e-4f39-9a57-6f3f3c1d2e10', source: 'front-desk', received_at: '2026-11-20T07:15:00.250Z', replayed_from: FROM },
      schemaText: schemas.get('dv2000_event')!.text,
    })
    expect(decode('dv2000_event', record!.body)).toMatchObject({ event_id: '0b7f1c56-4a1e-4f39-9a57-6f3f3c1d2e10', received_at: RECEIVED, user_agent: 'DuVoice/8.0.20', event_name: 'room_update' })
  })

  it('keeps the document\'s raw POST example refused, with the parser\'s reason', () => {
    const plan = planReplay(letter('front-desk', rawPostExample()), FROM, config, builtInSources, schemas)
    expect(plan).toEqual({ kind: 'refused', reason: expect.stringMatching(/not valid JSON/) })
  })

  it('skips what the source\'s filters now leave out, and refuses a source the config no longer has', () => {
    const general = JSON.stringify({ ...JSON.parse(roomUpdateText()), category: 0, message: 'note' })
    expect(planReplay(letter('lobby', general), FROM, config, builtInSources, schemas)).toMatchObject({ kind: 'skipped' })
    expect(planReplay(letter('gone', roomUpdateText()), FROM, config, builtInSources, schemas)).toEqual({ kind: 'refused', reason: 'source "gone" is not in the config' })
  })

  it('reads the body with the source\'s type as configured now (a source set up with the wrong type, then fixed)', () => {
    const plan = planReplay(letter('kyiv-central', servioFixture('guest-1-add.json'), { source_type: 'dv2000' }), FROM, config, builtInSources, schemas)
    expect(plan.kind).toBe('replay')
  })

  it('gives a Servio batch the dead letter\'s id as batch_id, and each record an id derived from it: the same on every replay', () => {
    const body = '{"Add":{"Guests":[1,2],"Reservations":[7]}}'
    const first = planReplay(letter('kyiv-central', body, { source_type: 'servio' }), FROM, config, builtInSources, schemas)
    const again = planReplay(letter('kyiv-central', body, { source_type: 'servio' }), FROM, config, builtInSources, schemas)
    if (first.kind !== 'replay' || again.kind !== 'replay') throw new Error('expected records')
    expect(first.topics).toEqual(['h7.servio.guests', 'h7.servio.other'])
    const values = first.records.map((r) => decode('servio_change', r.body))
    expect(values.map((v) => v['batch_id'])).toEqual(Array(3).fill('0b7f1c56-4a1e-4f39-9a57-6f3f3c1d2e10'))
    expect(new Set(values.map((v) => v['event_id'])).size).toBe(3)
    expect(first.records.map((r) => r.headers.event_id)).toEqual(again.records.map((r) => r.headers.event_id))
    expect(values.map((v) => v['entity'])).toEqual(['guest', 'guest', 'reservations'])
  })
})

describe('replayIds', () => {
  it('answers the dead letter\'s own id first, then UUIDs derived from it (valid, distinct, stable)', () => {
    const a = replayIds('0b7f1c56-4a1e-4f39-9a57-6f3f3c1d2e10')
    const b = replayIds('0b7f1c56-4a1e-4f39-9a57-6f3f3c1d2e10')
    const ids = [a(), a(), a(), a()]
    expect(ids[0]).toBe('0b7f1c56-4a1e-4f39-9a57-6f3f3c1d2e10')
    expect([b(), b(), b(), b()]).toEqual(ids)
    expect(new Set(ids).size).toBe(4)
    // The Avro uuid logical type and any UUID parser accept them: version 8, RFC variant.
    for (const id of ids.slice(1)) expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
    expect(replayIds('another')()).toBe('another')
    expect(avsc.Type.forSchema({ type: 'string', logicalType: 'uuid' } as avsc.Schema).isValid(ids[1])).toBe(true)
  })
})

describe('deadLetterTopics', () => {
  it('reads every dead-letter topic the sources write (overrides included), or only the --source one', () => {
    expect(deadLetterTopics(config)).toEqual(['h7.h7-refused', 'h7.bridge.deadletter'])
    expect(deadLetterTopics(config, 'lobby')).toEqual(['h7.bridge.deadletter'])
  })
})

describe('parseInstant and exit codes', () => {
  it('takes ISO 8601 with a zone, or a date alone (UTC); refuses the rest as a usage error', () => {
    expect(parseInstant('--since', '2026-11-26T08:00:00Z')).toBe(Date.parse('2026-11-26T08:00:00Z'))
    expect(parseInstant('--since', '2026-11-26T10:00:00.5+02:00')).toBe(Date.parse('2026-11-26T08:00:00.5Z'))
    expect(parseInstant('--until', '2026-11-26')).toBe(Date.parse('2026-11-26T00:00:00Z'))
    expect(parseInstant('--until', undefined)).toBeUndefined()
    for (const text of ['yesterday', '2026-11-26T08:00', '26/11/2026', '2026-13-40T00:00:00Z', '']) {
      expect(() => parseInstant('--since', text)).toThrow(UsageError)
    }
  })

  it('exits 2 for what the operator typed, 1 for what failed while running', () => {
    expect(exitCodeOf(new UsageError('x'))).toBe(2)
    expect(exitCodeOf(new BridgeError(ErrorCodes.CONFIG_INVALID, 'x'))).toBe(2)
    expect(exitCodeOf(Object.assign(new TypeError('Unknown option'), { code: 'ERR_PARSE_ARGS_UNKNOWN_OPTION' }))).toBe(2)
    expect(exitCodeOf(new BridgeError(ErrorCodes.KAFKA_UNAVAILABLE, 'x', { retriable: true }))).toBe(1)
    expect(exitCodeOf(new Error('KafkaJSConnectionError'))).toBe(1)
  })
})
