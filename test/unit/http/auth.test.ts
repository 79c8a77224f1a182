// Where a sender's secret travels (?token, Bearer, Basic password) and how it is checked, rotation included.
import { describe, expect, it } from 'vitest'
import { createSecretCheck, presentedSecret } from '../../../src/http/auth.js'

const basic = (userPass: string, scheme = 'Basic'): string => `${scheme} ${Buffer.from(userPass, 'utf8').toString('base64')}`

describe('presentedSecret', () => {
  it('takes ?token= first', () => {
    expect(presentedSecret(undefined, 'demo-dv2000-secret')).toBe('demo-dv2000-secret')
    expect(presentedSecret('Bearer from-header', 'from-query')).toBe('from-query')
    expect(presentedSecret(undefined, ['first-token', 'second-token'])).toBe('first-token')
  })

  it('ignores an empty or non-string token and falls back to the header', () => {
    expect(presentedSecret('Bearer from-header', '')).toBe('from-header')
    expect(presentedSecret('Bearer from-header', undefined)).toBe('from-header')
    expect(presentedSecret('Bearer from-header', { token: 'x' })).toBe('from-header')
    expect(presentedSecret(undefined, 42)).toBeUndefined()
  })

  it('takes a Bearer token, whatever the scheme\'s case, trimmed', () => {
    expect(presentedSecret('Bearer abc.def-123', undefined)).toBe('abc.def-123')
    expect(presentedSecret('bearer abc', undefined)).toBe('abc')
    expect(presentedSecret('BEARER   abc  ', undefined)).toBe('abc')
    expect(presentedSecret('Bearer ', undefined)).toBeUndefined()
    expect(presentedSecret('Bearer', undefined)).toBeUndefined()
  })

  it('takes the password of Basic auth and ignores the user (https://user:secret@host/…)', () => {
    expect(presentedSecret(basic('front-desk:demo-dv2000-secret'), undefined)).toBe('demo-dv2000-secret')
    expect(presentedSecret(basic('anyone:demo-dv2000-secret'), undefined)).toBe('demo-dv2000-secret')
    expect(presentedSecret(basic(':demo-dv2000-secret'), undefined)).toBe('demo-dv2000-secret')
    expect(presentedSecret(basic('user:pa:ss:word'), undefined)).toBe('pa:ss:word')
    expect(presentedSecret(basic('user:pässwörd'), undefined)).toBe('pässwörd')
    expect(presentedSecret(basic('user:demo', 'basic'), undefined)).toBe('demo')
    expect(presentedSecret(basic('user:demo', 'BASIC'), undefined)).toBe('demo')
    expect(presentedSecret(basic('user:'), undefined)).toBe('')
  })

  it('finds no secret in Basic credentials without a colon or in other schemes', () => {
    expect(presentedSecret(basic('only-a-user'), undefined)).toBeUndefined()
    expect(presentedSecret('Digest username="a"', undefined)).toBeUndefined()
    expect(presentedSecret('demo-dv2000-secret', undefined)).toBeUndefined()
    expect(presentedSecret(undefined, undefined)).toBeUndefined()
  })
})

describe('createSecretCheck', () => {
  it('accepts any of the configured secrets, so a secret can be rotated', () => {
    const check = createSecretCheck(['old-secret-2023', 'new-secret-2024'])
    expect(check.matches('old-secret-2023')).toBe(true)
    expect(check.matches('new-secret-2024')).toBe(true)
  })

  it('refuses anything else: a wrong, prefixed, truncated, differently cased, empty or absent secret', () => {
    const check = createSecretCheck(['old-secret-2023', 'new-secret-2024'])
    for (const presented of ['wrong-secret', 'new-secret-2024 ', 'new-secret-202', 'new-secret-20244', 'NEW-SECRET-2024', '', undefined]) {
      expect(check.matches(presented)).toBe(false)
    }
  })

  it('works end to end with what presentedSecret finds', () => {
    const check = createSecretCheck(['demo-dv2000-secret'])
    expect(check.matches(presentedSecret(undefined, 'demo-dv2000-secret'))).toBe(true)
    expect(check.matches(presentedSecret('Bearer demo-dv2000-secret', undefined))).toBe(true)
    expect(check.matches(presentedSecret(basic('dv:demo-dv2000-secret'), undefined))).toBe(true)
    expect(check.matches(presentedSecret(basic('demo-dv2000-secret:x'), undefined))).toBe(false)
    expect(check.matches(presentedSecret(undefined, undefined))).toBe(false)
  })
})
