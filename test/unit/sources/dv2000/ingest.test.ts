// The DV2000 component on the document's own examples: every contract field, topic, key and headers (SPEC §3).
import { describe, expect, it, vi } from 'vitest'
import type { Dv2000SourceConfig } from '../../../../src/sources/dv2000/options.js'
import { ErrorCodes } from '../../../../src/errors.js'
import { dv2000Source } from '../../../../src/sources/dv2000/index.js'
import type { IngestResult } from '../../../../src/sources/source.js'
import {
  checkInMessageText,
  checkOutMessageText,
  packetAround,
  packetBuffer,
  rawPostExample,
  roomMoveMessageText,
  roomUpdateText,
} from '../../../fixtures/dv2000/index.js'
import { bridgeErrorOf } from '../../thrown.js'

const EVENT_ID = '6f1c2a4e-8b3d-4c5e-9f70-1a2b3c4d5e6f'
const RECEIVED_AT = new Date('2023-09-13T15:07:47.123Z')
const FRONT_DESK: Dv2000SourceConfig = { id: 'front-desk', type: 'dv2000', secrets: ['demo-dv2000-secret'] }

function ingest(body: Buffer, source: Dv2000SourceConfig = FRONT_DESK): IngestResult {
  return dv2000Source.ingest(body, { source, receivedAt: RECEIVED_AT, newId: () => EVENT_ID })
}

type Records = Extract<IngestResult, { kind: 'records' }>

function records(body: Buffer, source?: Dv2000SourceConfig): Records {
  const result = ingest(body, source)
  if (result.kind !== 'records') throw new Error(`expected records, got ${result.kind}`)
  return result
}

/** The one record of an accepted DV2000 body, with its value as the Avro value. */
function only(body: Buffer, source?: Dv2000SourceConfig) {
  const result = records(body, source)
  expect(result.records).toHaveLength(1)
  const record = result.records[0]!
  return { result, record, value: record.value as Record<string, unknown> & { message: Record<string, unknown> | null } }
}

const NO_MESSAGE_FIELDS = {
  actor: null, count: null, date: null, event: null, firstname: null, from: null, guestid: null, isforsync: null,
  language: null, lastname: null, line: null, maidstatus: null, mailbox: null, room: null, source: null, time: null,
  timestamp: null, to: null, vip: null,
}

describe('dv2000Source.ingest on the document examples', () => {
  it('turns the "JSON Data" room update into one fully typed hospitality record keyed by room', () => {
    const newId = vi.fn(() => EVENT_ID)
    const result = dv2000Source.ingest(Buffer.from(roomUpdateText(), 'utf8'), { source: FRONT_DESK, receivedAt: RECEIVED_AT, newId })
    expect(newId).toHaveBeenCalledTimes(1)
    expect(result).toEqual({
      kind: 'records',
      eventId: EVENT_ID,
      warnings: [],
      records: [
        {
          topic: 'dv2000.hospitality',
          key: '100-101',
          schema: 'dv2000_event',
          headers: {
            event_id: EVENT_ID,
            source: 'front-desk',
            received_at: '2023-09-13T15:07:47.123Z',
            // CloudEvents (binary mode): ce_time is when it happened, from the event's own timestamp (-07:00).
            ce_specversion: '1.0',
            ce_id: EVENT_ID,
            ce_source: '/v1/dv2000/front-desk',
            ce_type: 'org.hotel-kafka-bridge.dv2000.room_update',
            ce_time: '2023-09-13T15:07:46.000Z',
            'content-type': 'application/avro',
          },
          value: {
            event_id: EVENT_ID,
            source: 'front-desk',
            received_at: RECEIVED_AT.getTime(),
            category: 3,
            category_name: 'hospitality',
            event: 12,
            event_name: 'room_update',
            service_id: 1064,
            service_name: 'Visitant',
            date: '2023/09/13',
            time: '08:07:46',
            timestamp: '2023-09-13T08:07:46-07:00',
            occurred_at: Date.UTC(2023, 8, 13, 15, 7, 46),
            message: {
              ...NO_MESSAGE_FIELDS,
              actor: 'Visitant',
              event: 12,
              firstname: 'Carmella',
              guestid: '15478364',
              lastname: 'Galvano',
              maidstatus: '0',
              mailbox: '3101',
              room: '100-101',
              source: 'testapp',
              timestamp: '2023-09-13T08:07:46-07:00',
              vip: false,
            },
            // The message node exactly as the document prints it, spaces included.
            message_json:
              '{ "actor": "Visitant", "event": 12, "firstname": "Carmella", "guestid": "15478364", "lastname": "Galvano", ' +
              '"maidstatus": "0", "mailbox": "3101", "room": "100-101", "source": "testapp", ' +
              '"timestamp": "2023-09-13T08:07:46-07:00", "vip": "0" }',
            extra_json: null,
            user_agent: null,
          },
        },
      ],
    })
  })

  it('keeps message_json as the exact byte slice of the body, even with unusual whitespace', () => {
    const message = '{\r\n\t"room" :  "100-101" ,\n  "vip":"1"   }'
    const body = packetAround(message, 12)
    const { value } = only(Buffer.from(`\n  ${body}\n`, 'utf8'))
    expect(value.message_json).toBe(message)
    expect(value.message).toMatchObject({ room: '100-101', vip: true })
  })

  it('types the check-in example: isforsync false, an empty language kept as ""', () => {
    const messageText = checkInMessageText()
    const { record, value, result } = only(packetBuffer(messageText, 9))
    expect(result.warnings).toEqual([])
    expect(record.topic).toBe('dv2000.hospitality')
    expect(record.key).toBe('100-101')
    expect(value.event).toBe(9)
    expect(value.event_name).toBe('room_check_in')
    expect(value.message).toEqual({
      ...NO_MESSAGE_FIELDS,
      actor: 'Visitant',
      event: 9,
      firstname: 'Amiee',
      guestid: '13082613',
      isforsync: false,
      language: '',
      lastname: 'Dutra',
      mailbox: '3101',
      room: '100-101',
      source: 'testapp',
      timestamp: '2023-09-13T08:26:14-07:00',
    })
    expect(value.message_json).toBe(messageText)
  })

  it('types the check-out example: fields it does not send are null', () => {
    const messageText = checkOutMessageText()
    const { record, value } = only(packetBuffer(messageText, 10))
    expect(record.key).toBe('100-101')
    expect(value.event_name).toBe('room_check_out')
    expect(value.message).toEqual({
      ...NO_MESSAGE_FIELDS,
      actor: 'Visitant',
      event: 10,
      guestid: '98463433',
      isforsync: false,
      mailbox: '3101',
      room: '100-101',
      source: 'testapp',
      timestamp: '2023-09-13T08:27:22-07:00',
    })
    expect(value.message_json).toBe(messageText)
  })

  it('keys the room move example by the room moved to, and keeps where from', () => {
    const messageText = roomMoveMessageText()
    const { record, value } = only(packetBuffer(messageText, 11))
    expect(record.topic).toBe('dv2000.hospitality')
    expect(record.key).toBe('100-102')
    expect(value.event_name).toBe('room_move')
    expect(value.message).toEqual({
      ...NO_MESSAGE_FIELDS,
      actor: 'Visitant',
      event: 11,
      from: '100-101',
      guestid: '14575183',
      source: 'testapp',
      timestamp: '2023-09-13T08:28:10-07:00',
      to: '100-102',
    })
    expect(value.message_json).toBe(messageText)
  })

  it('refuses the document\'s raw POST example (its message lost its "{") with BAD_INPUT, not a crash', () => {
    const body = rawPostExample()
    expect(body.length).toBe(373)
    const error = bridgeErrorOf(() => ingest(body))
    expect(error.code).toBe(ErrorCodes.BAD_INPUT)
    expect(error.retriable).toBe(false)
    expect(error.message).toMatch(/not valid JSON/)
  })
})

describe('DV2000 event names', () => {
  const table: [number, string][] = [
    [0, 'general_message'],
    [1, 'system_startup'],
    [2, 'system_shutdown'],
    [3, 'unknown'],
    [4, 'wakeup_answered'],
    [5, 'wakeup_callout'],
    [6, 'wakeup_created'],
    [7, 'wakeup_deleted'],
    [8, 'wakeup_failed'],
    [9, 'room_check_in'],
    [10, 'room_check_out'],
    [11, 'room_move'],
    [12, 'room_update'],
    [13, 'unknown'],
    [14, 'sip_registration_success'],
    [15, 'sip_registration_failure'],
    [16, 'sip_network_reconnected'],
    [17, 'sip_network_failure'],
    [18, 'unknown'],
    [99, 'unknown'],
  ]
  it.each(table)('event %i is %s', (event, name) => {
    const { value } = only(packetBuffer(undefined, event, { category: 2 }))
    expect(value.event).toBe(event)
    expect(value.event_name).toBe(name)
  })
})

describe('DV2000 routing: topic per category, key per contract', () => {
  const table: [number, string][] = [
    [0, 'general'],
    [1, 'telephony'],
    [2, 'system'],
    [4, 'other'],
    [200, 'other'],
  ]
  it.each(table)('category %i goes to dv2000.%s keyed by service_id, even with a room in its message', (category, name) => {
    const { record, value } = only(packetBuffer('{"room":"100-101","to":"100-102"}', 11, { category, service_id: 7 }))
    expect(value.category).toBe(category)
    expect(value.category_name).toBe(name)
    expect(record.topic).toBe(`dv2000.${name}`)
    expect(record.key).toBe('7')
  })

  it('category 3 goes to dv2000.hospitality', () => {
    const { record, value } = only(packetBuffer('{"room":"204"}', 12))
    expect(value.category_name).toBe('hospitality')
    expect(record.topic).toBe('dv2000.hospitality')
    expect(record.key).toBe('204')
  })

  it('falls back to service_id for a hospitality event without a room', () => {
    expect(only(packetBuffer('{"event":5,"count":"1"}', 5)).record.key).toBe('1064')
    expect(only(packetBuffer('{"room":""}', 12)).record.key).toBe('1064')
    expect(only(packetBuffer('"not an object"', 12)).record.key).toBe('1064')
    expect(only(packetBuffer(undefined, 12)).record.key).toBe('1064')
  })

  it('keys a room move without `to` by its room', () => {
    expect(only(packetBuffer('{"room":"100-101"}', 11)).record.key).toBe('100-101')
  })

  it('lists the topics a source can produce to, following its categories', () => {
    expect(dv2000Source.topics(FRONT_DESK)).toEqual([
      'dv2000.general', 'dv2000.telephony', 'dv2000.system', 'dv2000.hospitality', 'dv2000.other',
    ])
    expect(dv2000Source.topics({ ...FRONT_DESK, categories: [3] })).toEqual(['dv2000.hospitality'])
    expect(dv2000Source.topics({ ...FRONT_DESK, categories: [4, 200, 1] })).toEqual(['dv2000.other', 'dv2000.telephony'])
  })
})

describe('DV2000 category filter (like the sender\'s -cat)', () => {
  const hospitalityOnly: Dv2000SourceConfig = { ...FRONT_DESK, categories: [3] }

  it('filters out a category the source does not take, with a reason and an event id', () => {
    const result = ingest(packetBuffer(undefined, 1, { category: 2 }), hospitalityOnly)
    expect(result).toEqual({ kind: 'filtered', eventId: EVENT_ID, reason: expect.stringContaining('category 2') })
  })

  it('passes the categories it takes, also when sent as a string', () => {
    expect(records(packetBuffer(roomMoveMessageText(), 11), hospitalityOnly).records[0]!.key).toBe('100-102')
    expect(records(packetBuffer(roomMoveMessageText(), 11, { category: '3' }), hospitalityOnly).records).toHaveLength(1)
  })

  it('still refuses a malformed body rather than filtering it', () => {
    expect(bridgeErrorOf(() => ingest(rawPostExample(), hospitalityOnly)).code).toBe(ErrorCodes.BAD_INPUT)
  })
})

describe('user_agent (schema v2)', () => {
  it('carries the request\'s User-Agent as sent into DV2000 and Servio records, null when there is none', async () => {
    const { servioSource } = await import('../../../../src/sources/servio/index.js')
    const withAgent = dv2000Source.ingest(Buffer.from(roomUpdateText(), 'utf8'), { source: FRONT_DESK, receivedAt: RECEIVED_AT, userAgent: 'DuVoice/8.0.20', newId: () => EVENT_ID })
    expect(withAgent.kind === 'records' && withAgent.records[0]!.value['user_agent']).toBe('DuVoice/8.0.20')
    expect(records(Buffer.from(roomUpdateText(), 'utf8')).records[0]!.value['user_agent']).toBeNull()
    const servio = servioSource.ingest(Buffer.from('{"Add":{"Rooms":[160]}}'), {
      source: { id: 'hotel', type: 'servio', secrets: ['a-long-secret'] },
      receivedAt: RECEIVED_AT,
      userAgent: 'Servio HMS',
      newId: () => EVENT_ID,
    })
    expect(servio.kind === 'records' && servio.records[0]!.value['user_agent']).toBe('Servio HMS')
  })
})
