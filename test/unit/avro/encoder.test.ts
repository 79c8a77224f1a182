// Confluent wire format around Avro: every DV2000 record the bridge makes encodes with its schema and decodes back equal.
import { describe, expect, it } from 'vitest'
import { encodeBody, MAGIC_BYTE, withWireHeader } from '../../../src/avro/encoder.js'
import type avsc from 'avsc'

/** What delivery does: the Avro body, then the header once the registry id is known. */
const encodeWire = (id: number, type: avsc.Type, value: unknown): Buffer => withWireHeader(id, encodeBody(type, value))
const idOf = (wire: Buffer): number => wire.readUInt32BE(1)
import { loadSchemas, SCHEMA_NAMES } from '../../../src/avro/schemas.js'
import type { Dv2000SourceConfig } from '../../../src/sources/dv2000/options.js'
import { ErrorCodes } from '../../../src/errors.js'
import { dv2000Source } from '../../../src/sources/dv2000/index.js'
import {
  checkInMessageText,
  checkOutMessageText,
  packetAround,
  packetBuffer,
  rawPostExample,
  roomMoveMessageText,
  roomUpdateText,
} from '../../fixtures/dv2000/index.js'
import { bridgeErrorOf } from '../thrown.js'

const schemas = loadSchemas()
const FRONT_DESK: Dv2000SourceConfig = { id: 'front-desk', type: 'dv2000', secrets: ['demo-dv2000-secret'] }

function schema(name: (typeof SCHEMA_NAMES)[number]) {
  const loaded = schemas.get(name)
  if (loaded === undefined) throw new Error(`schema ${name} not loaded`)
  return loaded
}

function dv2000Value(body: Buffer): Record<string, unknown> {
  const result = dv2000Source.ingest(body, {
    source: FRONT_DESK,
    receivedAt: new Date('2023-09-13T15:07:47.123Z'),
    newId: () => '0b7e1d0a-4a5b-4c3d-8e9f-a0b1c2d3e4f5',
  })
  if (result.kind !== 'records') throw new Error('expected records')
  expect(result.records[0]!.schema).toBe('dv2000_event')
  return result.records[0]!.value
}

describe('loadSchemas', () => {
  it('loads every schema of schemas/ with its compact text for the registry', () => {
    expect([...schemas.keys()].sort()).toEqual(['dead_letter', 'dv2000_event', 'servio_change'])
    for (const name of SCHEMA_NAMES) {
      const loaded = schema(name)
      expect(loaded.name).toBe(name)
      expect(loaded.text).not.toMatch(/\n/)
      expect(JSON.parse(loaded.text)).toMatchObject({ type: 'record' })
    }
    expect(schema('dv2000_event').type.name).toBe('hotel_kafka_bridge.dv2000.Dv2000Event')
  })
})

describe('encodeBody + withWireHeader', () => {
  it('writes magic byte 0 and the schema id big-endian before the Avro body', () => {
    const { type } = schema('dv2000_event')
    const value = dv2000Value(Buffer.from(roomUpdateText(), 'utf8'))
    const wire = encodeWire(0x01020304, type, value)
    expect(MAGIC_BYTE).toBe(0)
    expect([...wire.subarray(0, 5)]).toEqual([0, 1, 2, 3, 4])
    expect(wire.subarray(5).equals(type.toBuffer(value))).toBe(true)
    expect(idOf(wire)).toBe(0x01020304)
    expect(idOf(encodeWire(7, type, value))).toBe(7)
    expect(idOf(encodeWire(0xffffffff, type, value))).toBe(0xffffffff)
  })

  it('reports a value that does not fit its schema as ENCODING_FAILED, not retriable', () => {
    const { type } = schema('dv2000_event')
    const value = { ...dv2000Value(Buffer.from(roomUpdateText(), 'utf8')), category: 'three' }
    const error = bridgeErrorOf(() => encodeWire(1, type, value))
    expect(error.code).toBe(ErrorCodes.ENCODING_FAILED)
    expect(error.retriable).toBe(false)
    expect(error.message).toContain('Dv2000Event')
  })
})

describe('every DV2000 record round-trips through Avro', () => {
  const bodies: [string, () => Buffer][] = [
    ['the room update example', () => Buffer.from(roomUpdateText(), 'utf8')],
    ['the check-in example', () => packetBuffer(checkInMessageText(), 9)],
    ['the check-out example', () => packetBuffer(checkOutMessageText(), 10)],
    ['the room move example', () => packetBuffer(roomMoveMessageText(), 11)],
    ['a wakeup with every typed field', () => packetBuffer(
      '{"actor":"PMS","count":"3","date":"20230914","event":5,"line":"2","isforsync":"1","vip":"1","room":"101","time":"0630"}', 5)],
    ['extreme ints', () => packetBuffer('{"count":2147483647,"line":"-2147483648"}', 2147483647, { category: -2147483648, service_id: 0 })],
    ['a string message', () => packetBuffer('"hello"', 0, { category: 0 })],
    ['no message', () => packetBuffer(undefined, 1, { category: 2 })],
    ['an unconvertible value', () => packetBuffer('{"count":"many","guestid":123456789012345678901}', 5)],
    ['extra top-level fields', () => Buffer.from(packetAround('{"room":"1"}', 12, { hotel: 'Kyiv', seq: 1 }), 'utf8')],
    ['a timestamp without offset', () => packetBuffer('{}', 14, { category: 1, timestamp: '2023-09-13T08:07:46' })],
    ['non-ASCII text', () => packetBuffer('{"lastname":"Müller 🏨","firstname":"Łucja"}', 9)],
    ['a Windows-1252 body', () => Buffer.from(packetAround('{"lastname":"Müller"}', 9), 'latin1')],
  ]
  it.each(bodies)('%s', (_what, body) => {
    const { type } = schema('dv2000_event')
    const value = dv2000Value(body())
    expect(type.isValid(value)).toBe(true)
    const wire = encodeWire(42, type, value)
    expect(wire.readUInt8(0)).toBe(0)
    expect(wire.readUInt32BE(1)).toBe(42)
    expect(type.fromBuffer(wire.subarray(5))).toEqual(value)
  })

  it('encodes the dead letter of the raw POST example with its exact bytes', () => {
    const { type } = schema('dead_letter')
    const body = rawPostExample()
    const value = {
      event_id: '0b7e1d0a-4a5b-4c3d-8e9f-a0b1c2d3e4f5',
      source: 'front-desk',
      source_type: 'dv2000',
      received_at: Date.UTC(2023, 8, 13, 15, 7, 47),
      reason: 'the body is not valid JSON',
      content_type: 'application/json',
      remote_address: null,
      body,
      user_agent: 'DuVoice/8.0.20',
    }
    const decoded = type.fromBuffer(encodeWire(3, type, value).subarray(5)) as typeof value
    expect(decoded).toEqual(value)
    expect(decoded.body.equals(body)).toBe(true)
    expect(decoded.body.length).toBe(373)
  })
})
