// The bridge's Kafka record encoder against kafkajs's own: the same bytes for every record, the same failures.
import { createRequire } from 'node:module'
import { describe, expect, it, vi } from 'vitest'
import { encodeRecord, kafkajsEncodeRecord, type RecordFields } from '../../../src/delivery/kafka/record-encoder.js'
import { rawPostExample } from '../../fixtures/dv2000/index.js'

const require = createRequire(import.meta.url)

/** The headers of a bridge record (SPEC §3), as records.ts makes them. */
const bridgeHeaders = {
  event_id: '0190f7a2-5b1c-7d3e-9f00-3c2b1a4d5e6f',
  source: 'hotel-berlin',
  received_at: '2026-12-07T21:30:00.123Z',
  ce_specversion: '1.0',
  ce_id: '0190f7a2-5b1c-7d3e-9f00-3c2b1a4d5e6f',
  ce_source: '/v1/dv2000/hotel-berlin',
  ce_type: 'org.hotel-kafka-bridge.dv2000.room_update',
  ce_time: '2026-12-07T21:29:59Z',
  'content-type': 'application/avro',
}

const cases: Record<string, RecordFields> = {
  'a bridge record: string key, Avro value, nine headers': { key: 'hotel-berlin:1203', value: Buffer.from(rawPostExample()), headers: bridgeHeaders, offsetDelta: 7, timestampDelta: 0 },
  'null key and value, no headers': { key: null, value: null },
  'undefined key, string value, empty headers': { value: 'plain text', headers: {} },
  'multi-byte text in key, header names and values': { key: 'Zimmer Müller 🛏', value: Buffer.alloc(0), headers: { 'grüße': 'ünïcødé ✓', e: '' } },
  'Buffer and array header values': { key: Buffer.from([0, 1, 255]), value: 'v', headers: { raw: Buffer.from([9, 8, 7]), many: ['a', Buffer.from('b'), 'c'] } },
  'a large value (three-byte length) at a large offset': { key: 'k', value: Buffer.alloc(100_000, 0x61), offsetDelta: 9_999, timestampDelta: 123_456 },
  'a negative timestamp delta': { key: 'k', value: 'v', timestampDelta: -1_500 },
  'deltas beyond 30 bits (left to kafkajs)': { key: 'k', value: 'v', timestampDelta: 2 ** 40, offsetDelta: 2 ** 31 },
  'a large negative timestamp delta': { key: 'k', value: 'v', timestampDelta: -(2 ** 35) },
  'a number as key (kafkajs refuses it)': { key: 42, value: 'v' },
}

describe('Kafka record encoder', () => {
  for (const [name, fields] of Object.entries(cases)) {
    it(`writes what kafkajs writes: ${name}`, () => {
      // What kafkajs refuses (a number as key) must fail here too, with its error.
      const outcome = (encode: typeof encodeRecord) => {
        try {
          return encode(fields).buffer.toString('hex')
        } catch (error) {
          return `threw ${String(error)}`
        }
      }
      expect(outcome(encodeRecord)).toBe(outcome(kafkajsEncodeRecord))
    })
  }

  it('writes what kafkajs writes for 2,000 random records: texts of every UTF-8 width, bytes, empty and absent fields, deltas at every varint length', () => {
    // A fixed seed: a failure names a record that can be made again.
    let seed = 0x2107
    const random = (n: number): number => {
      seed = (Math.imul(seed, 1_103_515_245) + 12_345) >>> 0
      return (seed >>> 1) % n
    }
    const alphabet = ['a', 'Z', '0', ' ', 'é', 'ß', '€', '中', '🛏', '\u0000', '"']
    const text = (): string => Array.from({ length: random(40) }, () => alphabet[random(alphabet.length)]).join('')
    const bytes = (): Buffer => Buffer.from(Array.from({ length: random(300) }, () => random(256)))
    const field = (): string | Buffer | null | undefined => [text, bytes, () => null, () => undefined][random(4)]!()
    // Magnitudes up to 2^30, across the varint's one- to five-byte lengths, either sign.
    const delta = (): number => (random(2) === 0 ? 1 : -1) * random(2 ** (1 + random(30)))
    for (let i = 0; i < 2_000; i++) {
      const headers: Record<string, string | Buffer> = {}
      for (let h = random(12); h > 0; h--) headers[`${text()}${h}`] = random(2) === 0 ? text() : bytes()
      const fields: RecordFields = { key: field(), value: field(), headers, offsetDelta: random(2 ** 20), timestampDelta: delta() }
      expect(encodeRecord(fields).buffer.toString('hex'), `record ${i}`).toBe(kafkajsEncodeRecord(fields).buffer.toString('hex'))
    }
  })

  it('fails as kafkajs fails on a header value that is neither text nor bytes', () => {
    for (const value of [7, null, undefined]) {
      const fields = { key: 'k', value: 'v', headers: { bad: value } }
      expect(() => kafkajsEncodeRecord(fields)).toThrow()
      expect(() => encodeRecord(fields)).toThrow()
    }
  })

  it('is the encoder kafkajs loads for its produce requests', () => {
    expect(require('kafkajs/src/protocol/recordBatch/record/v0/index.js')).toBe(encodeRecord)
  })

  it('takes over produce requests kafkajs loaded before it, as when a second test file runs in the same process', async () => {
    const produceV5 = 'kafkajs/src/protocol/requests/produce/v5/request.js'
    const loadedBefore: unknown = require(produceV5)
    vi.resetModules()
    const again = await import('../../../src/delivery/kafka/record-encoder.js')
    expect(require('kafkajs/src/protocol/recordBatch/record/v0/index.js')).toBe(again.encodeRecord)
    // Its reference is kafkajs's own encoder again, not the encoder the earlier evaluation put in the cache.
    expect(again.kafkajsEncodeRecord).not.toBe(encodeRecord)
    expect(require(produceV5)).not.toBe(loadedBefore)
  })
})
