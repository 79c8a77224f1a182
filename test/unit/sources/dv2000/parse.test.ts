// parseDv2000 on the input quirks of SPEC §4 and on bodies it must refuse with a reason naming the problem.
import { describe, expect, it } from 'vitest'
import type { Dv2000SourceConfig } from '../../../../src/sources/dv2000/options.js'
import { ErrorCodes } from '../../../../src/errors.js'
import { dv2000Source } from '../../../../src/sources/dv2000/index.js'
import { parseDv2000 } from '../../../../src/sources/dv2000/parse.js'
import { packetAround, packetBuffer, rawPostExample, roomUpdateText } from '../../../fixtures/dv2000/index.js'
import { bridgeErrorOf } from '../../thrown.js'

const FRONT_DESK: Dv2000SourceConfig = { id: 'front-desk', type: 'dv2000', secrets: ['demo-dv2000-secret'] }

function warningsOf(body: Buffer): string[] {
  const result = dv2000Source.ingest(body, { source: FRONT_DESK, receivedAt: new Date(0), newId: () => 'id' })
  if (result.kind !== 'records') throw new Error('expected records')
  return result.warnings ?? []
}

function message(messageText: string, event = 12) {
  const parsed = parseDv2000(packetBuffer(messageText, event))
  if (parsed.message === null) throw new Error('expected a typed message')
  return { parsed, message: parsed.message }
}

describe('parseDv2000: numbers and booleans as strings', () => {
  it('reads top-level numbers sent as strings', () => {
    const parsed = parseDv2000(packetBuffer('{}', 0, { category: '3', event: '12', service_id: ' 1064 ' }))
    expect(parsed).toMatchObject({ category: 3, category_name: 'hospitality', event: 12, event_name: 'room_update', service_id: 1064 })
  })

  it('reads message ints sent as strings: count "3", line "2", event "5"', () => {
    const { message: m, parsed } = message('{"count":"3","line":"2","event":"5","date":"20230914","time":"0630"}', 5)
    expect(m).toMatchObject({ count: 3, line: 2, event: 5, date: '20230914', time: '0630' })
    expect(parsed.unconvertible).toEqual([])
  })

  const booleans: [string, boolean][] = [
    ['"1"', true],
    ['"0"', false],
    ['true', true],
    ['false', false],
    ['"true"', true],
    ['"false"', false],
    ['"TRUE"', true],
    ['1', true],
    ['0', false],
  ]
  it.each(booleans)('reads vip and isforsync sent as %s as %s', (text, expected) => {
    const { message: m, parsed } = message(`{"vip":${text},"isforsync":${text}}`)
    expect(m.vip).toBe(expected)
    expect(m.isforsync).toBe(expected)
    expect(parsed.unconvertible).toEqual([])
  })

  it('reads a text field sent as a number from its JSON text, so no digit is lost', () => {
    const { message: m, parsed } = message('{"guestid":123456789012345678901,"mailbox":3101,"room":101,"actor":true}')
    expect(m.guestid).toBe('123456789012345678901')
    expect(m.mailbox).toBe('3101')
    expect(m.room).toBe('101')
    expect(m.actor).toBe('true')
    expect(parsed.message_json).toBe('{"guestid":123456789012345678901,"mailbox":3101,"room":101,"actor":true}')
    expect(dv2000Source.ingest(packetBuffer('{"room":101}', 12), { source: FRONT_DESK, receivedAt: new Date(0), newId: () => 'id' }))
      .toMatchObject({ kind: 'records', records: [{ key: '101' }] })
  })
})

describe('parseDv2000: messages that vary', () => {
  it('sets every documented field the message leaves out to null, and empty int/boolean strings to null', () => {
    const { message: m, parsed } = message('{"room":"100-101","count":"","vip":"","line":null,"language":""}')
    expect(Object.keys(m).sort()).toEqual([
      'actor', 'count', 'date', 'event', 'firstname', 'from', 'guestid', 'isforsync', 'language', 'lastname', 'line',
      'maidstatus', 'mailbox', 'room', 'source', 'time', 'timestamp', 'to', 'vip',
    ])
    expect(m).toMatchObject({ room: '100-101', count: null, vip: null, line: null, language: '', actor: null, to: null })
    expect(parsed.unconvertible).toEqual([])
  })

  it('keeps unknown message fields (and their nesting) in message_json only', () => {
    const node = '{"room":"7","wakeup":{"tries":[1,2,{"note":"a \\"}\\" brace"}]},"pin":"0042"}'
    const { message: m, parsed } = message(node)
    expect(parsed.message_json).toBe(node)
    expect(JSON.parse(parsed.message_json)).toEqual({ room: '7', wakeup: { tries: [1, 2, { note: 'a "}" brace' }] }, pin: '0042' })
    expect(m.room).toBe('7')
    expect(m).not.toHaveProperty('wakeup')
    expect(m).not.toHaveProperty('pin')
  })

  it('takes a repeated message field\'s last value, like JSON.parse', () => {
    const { message: m } = message('{"guestid":1,"guestid":98765432109876543210}')
    expect(m.guestid).toBe('98765432109876543210')
  })

  const notObjects: [string, string | undefined, string][] = [
    ['a string', '"hello"', '"hello"'],
    ['null', 'null', 'null'],
    ['an array', '[1, "two"]', '[1, "two"]'],
    ['a number', '42', '42'],
    ['absent', undefined, 'null'],
  ]
  it.each(notObjects)('keeps a message that is %s as message_json with message null', (_what, node, json) => {
    const parsed = parseDv2000(packetBuffer(node, 0, { category: 0 }))
    expect(parsed.message).toBeNull()
    expect(parsed.message_json).toBe(json)
    expect(parsed.unconvertible).toEqual([])
  })

  it('turns a value that cannot be typed into null, keeps it in message_json and warns', () => {
    const node = '{"count":"many","vip":"maybe","line":2147483648,"room":{"no":1},"guestid":"77"}'
    const { message: m, parsed } = message(node, 5)
    expect(m).toMatchObject({ count: null, vip: null, line: null, room: null, guestid: '77' })
    expect(parsed.message_json).toBe(node)
    expect([...parsed.unconvertible].sort()).toEqual(['count', 'line', 'room', 'vip'])
    const warnings = warningsOf(packetBuffer(node, 5))
    expect(warnings).toHaveLength(4)
    expect(warnings).toContain('message.count could not be typed; kept in message_json')
    expect(warnings).toContain('message.vip could not be typed; kept in message_json')
  })

  it('collects top-level fields the document does not list into extra_json, as sent', () => {
    const body = packetAround('{"room":"1"}', 12, { hotel: 'Kyiv', seq: { raw: '12345678901234567890' }, tags: ['a', { b: null }] })
    const parsed = parseDv2000(Buffer.from(body, 'utf8'))
    expect(parsed.extra_json).toBe('{"hotel":"Kyiv","seq":12345678901234567890,"tags":["a",{"b":null}]}')
    expect(parsed.message_json).toBe('{"room":"1"}')
    expect(parseDv2000(Buffer.from(roomUpdateText(), 'utf8')).extra_json).toBeNull()
  })
})

describe('parseDv2000: encodings', () => {
  it('reads a Windows-1252 body (not valid UTF-8) and says so', () => {
    const text = packetAround('{"lastname":"Müller","firstname":"Zoë","room":"12"}', 9)
    const body = Buffer.from(text, 'latin1')
    expect(() => new TextDecoder('utf-8', { fatal: true }).decode(body)).toThrow()
    const parsed = parseDv2000(body)
    expect(parsed.utf8).toBe(false)
    expect(parsed.message).toMatchObject({ lastname: 'Müller', firstname: 'Zoë', room: '12' })
    expect(parsed.message_json).toBe('{"lastname":"Müller","firstname":"Zoë","room":"12"}')
    expect(warningsOf(body)).toEqual(['the body was not UTF-8 and was read as Windows-1252'])
  })

  it('reads the Windows-1252 characters Latin-1 does not have (0x80-0x9F: €, curly quotes, dashes)', () => {
    // "O’Brien" typed on a Windows PC: the apostrophe is byte 0x92 in Windows-1252, U+2019 in Unicode.
    const bytes = (text: string): Buffer => Buffer.from(text, 'latin1')
    const body = Buffer.concat([
      bytes(packetAround('{"lastname":"O', 9).slice(0, -1)),
      Buffer.from([0x92]),
      bytes('Brien","actor":"'),
      Buffer.from([0x80, 0x20, 0x96, 0x20, 0x93, 0x94]),
      bytes('"}}'),
    ])
    const parsed = parseDv2000(body)
    expect(parsed.utf8).toBe(false)
    expect(parsed.message?.lastname).toBe('O\u2019Brien')
    expect(parsed.message?.actor).toBe('\u20ac \u2013 \u201c\u201d')
  })

  it('reads a UTF-8 body as UTF-8 without a warning', () => {
    const body = packetBuffer('{"lastname":"Müller"}', 9)
    expect(parseDv2000(body)).toMatchObject({ utf8: true, message: { lastname: 'Müller' } })
    expect(warningsOf(body)).toEqual([])
  })

  it('accepts a body with a UTF-8 byte order mark exactly like the same body without one', () => {
    const plain = Buffer.from(roomUpdateText(), 'utf8')
    const withBom = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), plain])
    expect(parseDv2000(withBom)).toEqual(parseDv2000(plain))
    expect(warningsOf(withBom)).toEqual([])
  })
})

describe('parseDv2000: refusals (BAD_INPUT, with a reason naming the problem)', () => {
  it('refuses an empty body', () => {
    const error = bridgeErrorOf(() => parseDv2000(Buffer.alloc(0)))
    expect(error.code).toBe(ErrorCodes.BAD_INPUT)
    expect(error.message).toMatch(/empty/)
  })

  it('refuses the document\'s raw POST example and a truncated body as not valid JSON', () => {
    for (const body of [rawPostExample(), Buffer.from(roomUpdateText().slice(0, -1), 'utf8'), Buffer.from('   ')]) {
      const error = bridgeErrorOf(() => parseDv2000(body))
      expect(error.code).toBe(ErrorCodes.BAD_INPUT)
      expect(error.message).toMatch(/not valid JSON/)
    }
  })

  it.each(['[{"category":3}]', 'null', '"text"', '42'])('refuses %s: not a JSON object', (text) => {
    const error = bridgeErrorOf(() => parseDv2000(Buffer.from(text)))
    expect(error.code).toBe(ErrorCodes.BAD_INPUT)
    expect(error.message).toMatch(/JSON object/)
  })

  it.each(['category', 'event', 'service_id', 'service_name', 'date', 'time', 'timestamp'])('refuses a packet without %s', (field) => {
    for (const value of [undefined, null]) {
      const error = bridgeErrorOf(() => parseDv2000(packetBuffer('{}', 12, { [field]: value })))
      expect(error.code).toBe(ErrorCodes.BAD_INPUT)
      expect(error.message).toBe(`field "${field}" is missing`)
    }
  })

  const badValues: [string, unknown][] = [
    ['category', 'abc'],
    ['category', 3.5],
    ['category', true],
    ['event', '12a'],
    ['event', 2147483648],
    ['service_id', { id: 1 }],
    ['service_name', 1064],
    ['date', 20230913],
    ['timestamp', ['2023-09-13T08:07:46-07:00']],
  ]
  it.each(badValues)('refuses %s = %j, naming the field', (field, value) => {
    const error = bridgeErrorOf(() => parseDv2000(packetBuffer('{}', 12, { [field]: value })))
    expect(error.code).toBe(ErrorCodes.BAD_INPUT)
    expect(error.message).toContain(`"${field}"`)
    expect(error.message).toContain(JSON.stringify(value))
  })
})
