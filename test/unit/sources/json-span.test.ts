// memberSpans: where each member of a JSON object stands in its text, so values can be kept exactly as sent.
import { describe, expect, it } from 'vitest'
import { memberSpans, sliceOf } from '../../../src/sources/json-span.js'

/** Every member's text, by key, in the order memberSpans reports them. */
function members(text: string, span?: { start: number; end: number }): [string, string][] {
  return [...memberSpans(text, span)].map(([key, s]) => [key, text.slice(s.start, s.end)])
}

describe('memberSpans', () => {
  it('gives the exact text of every kind of value', () => {
    const text = '{"s":"x","n":-1.5e+3,"t":true,"f":false,"z":null,"o":{"a":[1,{"b":2}]},"a":[[],{}],"e":""}'
    expect(members(text)).toEqual([
      ['s', '"x"'],
      ['n', '-1.5e+3'],
      ['t', 'true'],
      ['f', 'false'],
      ['z', 'null'],
      ['o', '{"a":[1,{"b":2}]}'],
      ['a', '[[],{}]'],
      ['e', '""'],
    ])
  })

  it('is not fooled by quotes, backslashes, braces and brackets inside strings', () => {
    const text = String.raw`{"a":"say \"hi\" }","b":{"c":"}]{[","d":"\\"},"e":["\\\"]",1],"f\"g":"\u007d"}`
    const parsed = JSON.parse(text) as Record<string, unknown>
    const spans = members(text)
    expect(spans).toEqual([
      ['a', String.raw`"say \"hi\" }"`],
      ['b', String.raw`{"c":"}]{[","d":"\\"}`],
      ['e', String.raw`["\\\"]",1]`],
      ['f"g', String.raw`"\u007d"`],
    ])
    // Each slice is the JSON of the value JSON.parse saw.
    for (const [key, slice] of spans) expect(JSON.parse(slice)).toEqual(parsed[key])
  })

  it('keeps the last of a repeated key, like JSON.parse', () => {
    const text = '{"k":1,"other":2,"k":{"x":"last"}}'
    const spans = memberSpans(text)
    expect(sliceOf(text, spans.get('k'))).toBe('{"x":"last"}')
    expect(JSON.parse(sliceOf(text, spans.get('k'))!)).toEqual((JSON.parse(text) as { k: unknown }).k)
    expect(spans.size).toBe(2)
  })

  it('skips every kind of JSON whitespace around keys, colons, values and commas', () => {
    const text = ' \r\n\t{ \n"a" \t:\r\n 1 ,\n\t"b"\n:\n[ 1 , 2 ]\n,"c":"v"\t}\n '
    expect(members(text)).toEqual([
      ['a', '1'],
      ['b', '[ 1 , 2 ]'],
      ['c', '"v"'],
    ])
  })

  it('reads only the members of the object a span points at', () => {
    const text = '{"outer":1,"message":{"room":"100-101","nested":{"room":"not me"}},"room":"top"}'
    const top = memberSpans(text)
    const message = top.get('message')!
    expect(text.slice(message.start, message.end)).toBe('{"room":"100-101","nested":{"room":"not me"}}')
    expect(members(text, message)).toEqual([
      ['room', '"100-101"'],
      ['nested', '{"room":"not me"}'],
    ])
    expect(sliceOf(text, top.get('room'))).toBe('"top"')
  })

  it('reports no members for an empty object or a value that is not an object', () => {
    expect(memberSpans('{}').size).toBe(0)
    expect(memberSpans(' { } ').size).toBe(0)
    expect(memberSpans('[{"a":1}]').size).toBe(0)
    expect(memberSpans('"{\\"a\\":1}"').size).toBe(0)
    expect(sliceOf('{}', undefined)).toBeUndefined()
  })

  it('keys decode JSON escapes, as JSON.parse does', () => {
    const text = '{"mess\\u0061ge":{"a":1}}'
    expect(sliceOf(text, memberSpans(text).get('message'))).toBe('{"a":1}')
  })
})
