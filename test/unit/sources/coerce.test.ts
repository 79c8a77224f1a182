// The lenient conversions behind SPEC §4: numbers and booleans that arrive as strings.
import { describe, expect, it } from 'vitest'
import { toBoolean, toInt32, toLong, toText } from '../../../src/sources/coerce.js'

describe('toInt32', () => {
  const accepted: [unknown, number][] = [
    [0, 0],
    [42, 42],
    ['42', 42],
    [' 42 ', 42],
    ['+7', 7],
    ['-7', -7],
    ['007', 7],
    [2_147_483_647, 2_147_483_647],
    ['2147483647', 2_147_483_647],
    [-2_147_483_648, -2_147_483_648],
    ['-2147483648', -2_147_483_648],
  ]
  it.each(accepted)('reads %j as %i', (value, expected) => {
    expect(toInt32(value)).toBe(expected)
  })

  const refused: unknown[] = [
    2_147_483_648, '2147483648', -2_147_483_649, '-2147483649', '12345678901', 1.5, '1.5', '4.0', '1e3', '0x10', '',
    ' ', 'many', '12a', NaN, Infinity, true, null, undefined, [1], { n: 1 },
  ]
  it.each(refused)('refuses %j', (value) => {
    expect(toInt32(value)).toBeUndefined()
  })
})

describe('toLong', () => {
  it('reads safe integers from numbers and decimal strings and refuses the rest', () => {
    expect(toLong(Number.MAX_SAFE_INTEGER)).toBe(Number.MAX_SAFE_INTEGER)
    expect(toLong('9007199254740991')).toBe(Number.MAX_SAFE_INTEGER)
    expect(toLong(' -12 ')).toBe(-12)
    expect(toLong('9007199254740993')).toBeUndefined()
    expect(toLong(2 ** 53)).toBeUndefined()
    expect(toLong('12345678901234567')).toBeUndefined()
    expect(toLong(1.5)).toBeUndefined()
    expect(toLong('x')).toBeUndefined()
  })
})

describe('toBoolean', () => {
  const table: [unknown, boolean | undefined][] = [
    [true, true],
    [false, false],
    [1, true],
    [0, false],
    ['1', true],
    ['0', false],
    ['true', true],
    ['false', false],
    ['True', true],
    [' FALSE ', false],
    [' 1 ', true],
    ['yes', undefined],
    ['no', undefined],
    ['', undefined],
    ['2', undefined],
    [2, undefined],
    [-1, undefined],
    [null, undefined],
    [undefined, undefined],
    [{}, undefined],
  ]
  it.each(table)('reads %j as %s', (value, expected) => {
    expect(toBoolean(value)).toBe(expected)
  })
})

describe('toText', () => {
  it('keeps strings as they are, including empty and padded ones', () => {
    expect(toText('15478364')).toBe('15478364')
    expect(toText('')).toBe('')
    expect(toText(' 0 ')).toBe(' 0 ')
  })

  it('writes numbers and booleans as text, preferring the JSON text the sender wrote', () => {
    expect(toText(3101)).toBe('3101')
    expect(toText(123456789012345678901, '123456789012345678901')).toBe('123456789012345678901')
    expect(toText(123456789012345678901)).toBe('123456789012345680000')
    expect(toText(true)).toBe('true')
    expect(toText(false)).toBe('false')
  })

  it('refuses what is not a scalar', () => {
    for (const value of [null, undefined, {}, [], ['a']]) expect(toText(value)).toBeUndefined()
  })
})
