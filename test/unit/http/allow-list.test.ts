// A source's CIDR allow-list: IPv4, IPv6, IPv4-mapped IPv6 and single addresses.
import { describe, expect, it } from 'vitest'
import { createAllowList } from '../../../src/http/allow-list.js'

describe('createAllowList', () => {
  it('allows every address (even an unknown one) when there is no list or it is empty', () => {
    for (const list of [createAllowList(undefined), createAllowList([])]) {
      expect(list.allows('203.0.113.9')).toBe(true)
      expect(list.allows('2001:db8::1')).toBe(true)
      expect(list.allows(undefined)).toBe(true)
    }
  })

  it('checks IPv4 CIDR blocks at their edges', () => {
    const list = createAllowList(['10.0.0.0/8', '192.168.1.0/24'])
    expect(list.allows('10.0.0.0')).toBe(true)
    expect(list.allows('10.255.255.255')).toBe(true)
    expect(list.allows('11.0.0.0')).toBe(false)
    expect(list.allows('9.255.255.255')).toBe(false)
    expect(list.allows('192.168.1.77')).toBe(true)
    expect(list.allows('192.168.2.1')).toBe(false)
  })

  it('treats an IPv4-mapped IPv6 address (a dual-stack socket) as the IPv4 address', () => {
    const list = createAllowList(['10.0.0.0/8'])
    expect(list.allows('::ffff:10.1.2.3')).toBe(true)
    expect(list.allows('::ffff:11.1.2.3')).toBe(false)
  })

  it('checks IPv6 blocks and single IPv6 addresses', () => {
    const list = createAllowList(['2001:db8::/32', '::1'])
    expect(list.allows('2001:db8::1')).toBe(true)
    expect(list.allows('2001:db8:ffff:ffff::1')).toBe(true)
    expect(list.allows('2001:db9::1')).toBe(false)
    expect(list.allows('::1')).toBe(true)
    expect(list.allows('::2')).toBe(false)
    expect(list.allows('10.0.0.1')).toBe(false)
  })

  it('allows a single address given without a prefix, and nothing beside it', () => {
    const list = createAllowList(['192.168.1.5'])
    expect(list.allows('192.168.1.5')).toBe(true)
    expect(list.allows('::ffff:192.168.1.5')).toBe(true)
    expect(list.allows('192.168.1.6')).toBe(false)
    expect(list.allows('192.168.1.4')).toBe(false)
  })

  it('refuses an unknown or malformed address when a list is set', () => {
    const list = createAllowList(['0.0.0.0/0'])
    expect(list.allows('198.51.100.1')).toBe(true)
    expect(list.allows(undefined)).toBe(false)
    expect(list.allows('not-an-ip')).toBe(false)
  })
})
