// Onboarding from the config: the sources as a table, and exactly what to type into each sender.
import { describe, expect, it } from 'vitest'
import { formatSources, listSources, senderUrl } from '../../../src/cli/sources.js'
import { validateConfig } from '../../../src/config/load.js'

const config = validateConfig({
  sources: [
    { id: 'front-desk', type: 'dv2000', secrets: ['old-secret-1', 'new-secret/2&x'], categories: [3, 1], allowCidrs: ['10.0.0.0/8'], silentAfter: '6h' },
    { id: 'kyiv-central', type: 'servio', secrets: ['demo-servio-secret'], hotelId: '12', entities: ['guest', 'room'] },
  ],
})

describe('sources list', () => {
  it('lists id, type, path, how many secrets, the sender\'s options and the allow-list, never a secret', () => {
    const list = listSources(config)
    expect(list).toEqual([
      { id: 'front-desk', type: 'dv2000', path: '/v1/dv2000/front-desk', secrets: 2, secretsFile: null, options: { categories: [3, 1] }, allowCidrs: ['10.0.0.0/8'], silentAfterSeconds: 21_600 },
      { id: 'kyiv-central', type: 'servio', path: '/v1/servio/kyiv-central', secrets: 1, secretsFile: null, options: { hotelId: '12', entities: ['guest', 'room'] }, allowCidrs: null, silentAfterSeconds: null },
    ])
    const text = formatSources(list)
    expect(text.split('\n')[1]).toMatch(/^front-desk\s+dv2000\s+\/v1\/dv2000\/front-desk\s+2\s+categories=3,1\s+10\.0\.0\.0\/8$/)
    expect(text + JSON.stringify(list)).not.toMatch(/secret-1|new-secret|demo-servio-secret/)
    expect(formatSources([])).toBe('no sources are configured\n')
  })
})

describe('sources url', () => {
  it('gives DV2000 its Events server argument line, -cat from the source\'s categories, the newest secret masked', () => {
    const { url, setup, warning } = senderUrl(config, 'front-desk', 'https://bridge.example.com/', false)
    expect(url).toBe('https://bridge.example.com/v1/dv2000/front-desk?token=****')
    expect(setup).toContain('\n  -url https://bridge.example.com/v1/dv2000/front-desk?token=**** -cat 3,1\n')
    expect(warning).toBeNull()
  })

  it('prints the newest secret, URL-encoded, only with --show-secret; warns when the base is http://', () => {
    const { url, warning } = senderUrl(config, 'front-desk', 'http://10.0.0.5:8080', true)
    expect(url).toBe('http://10.0.0.5:8080/v1/dv2000/front-desk?token=new-secret%2F2%26x')
    expect(warning).toMatch(/over http:\/\/ anyone on the way can read it/)
  })

  it('gives Servio its service address under a base path, naming the event flags its filter keeps', () => {
    const { setup } = senderUrl(config, 'kyiv-central', 'https://bridge.example.com/hotels', true)
    expect(setup).toBe(
      'Servio HMS, Settings/Other, tab "Quick response to events", field "Service address":\n  https://bridge.example.com/hotels/v1/servio/kyiv-central?token=demo-servio-secret\n  (set the event flags for entities guest, room: the source keeps only those)',
    )
  })

  it('refuses an unknown id, a missing or bad --base, with exit 2 (usage)', () => {
    expect(() => senderUrl(config, 'nope', 'https://x', false)).toThrow(/no source "nope"/)
    expect(() => senderUrl(config, 'front-desk', undefined, false)).toThrow(/needs --base/)
    expect(() => senderUrl(config, 'front-desk', 'bridge.example.com', false)).toThrow(/is not a URL/)
    expect(() => senderUrl(config, 'front-desk', 'ftp://bridge', false)).toThrow(/http:\/\/ or https:\/\//)
    expect(() => senderUrl(config, 'front-desk', 'https://bridge/?token=x', false)).toThrow(/query or fragment/)
  })
})
