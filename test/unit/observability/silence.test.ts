// A source that stops posting (a DV2000 upgraded without its Events server) is flagged once and cleared once.
import { afterEach, describe, expect, it } from 'vitest'
import { validateConfig } from '../../../src/config/load.js'
import type { SourceConfig } from '../../../src/config/schema.js'
import { createMetrics } from '../../../src/observability/metrics.js'
import { createSilenceWatch, type SilenceWatch } from '../../../src/observability/silence.js'
import { capturingLogger } from '../delivery/spool-fixtures.js'

const watches: SilenceWatch[] = []
afterEach(() => watches.splice(0).forEach((w) => w.stop()))

function watch(sources: () => readonly SourceConfig[]) {
  const { logger, lines } = capturingLogger()
  const metrics = createMetrics({ defaultMetrics: false })
  let clock = 1_000_000
  const w = createSilenceWatch({ sources, logger, metrics, checkMs: 3_600_000, now: () => clock })
  watches.push(w)
  const value = async (name: 'sourceSilent' | 'sourceLastEvent', source: string) => (await metrics[name].get()).values.find((v) => v.labels['source'] === source)?.value
  return { w, lines, value, advance: (ms: number) => (clock += ms) }
}

const sourcesOf = (raw: unknown[]) => validateConfig({ sources: raw }).sources

describe('silent sources', () => {
  it('flags a source silent after silentAfter without a request (one warning), and clears it at the next (one line)', async () => {
    const sources = sourcesOf([
      { id: 'front-desk', type: 'dv2000', secrets: ['a-secret-1'], silentAfter: '6h' },
      { id: 'lobby', type: 'servio', secrets: ['a-secret-1'] },
    ])
    const { w, lines, value, advance } = watch(() => sources)
    expect(await value('sourceSilent', 'front-desk')).toBe(0)
    // Without silentAfter a source is never flagged.
    expect(await value('sourceSilent', 'lobby')).toBeUndefined()
    advance(5 * 3_600_000)
    w.heard('front-desk')
    expect(await value('sourceLastEvent', 'front-desk')).toBe((1_000_000 + 5 * 3_600_000) / 1000)
    advance(6 * 3_600_000 - 1)
    w.check()
    expect(await value('sourceSilent', 'front-desk')).toBe(0)
    advance(1)
    w.check()
    w.check()
    expect(await value('sourceSilent', 'front-desk')).toBe(1)
    const warnings = lines.filter((l) => l['level'] === 'warn')
    expect(warnings.map((l) => l['msg'])).toEqual(['source front-desk has sent nothing for 6h or more: check the sender (a DV2000 upgrade removes its Events server from the server list)'])
    w.heard('front-desk')
    expect(await value('sourceSilent', 'front-desk')).toBe(0)
    expect(lines.filter((l) => l['msg'] === 'source front-desk speaks again')).toEqual([expect.objectContaining({ silentForSeconds: 6 * 3600 })])
  })

  it('counts a source added by a reload from the reload, and forgets one it removed', async () => {
    let sources = sourcesOf([{ id: 'front-desk', type: 'dv2000', secrets: ['a-secret-1'], silentAfter: '1h' }])
    const { w, value, advance } = watch(() => sources)
    advance(3_600_000)
    sources = sourcesOf([{ id: 'new-hotel', type: 'dv2000', secrets: ['a-secret-1'], silentAfter: '1h' }])
    w.check()
    expect(await value('sourceSilent', 'front-desk')).toBeUndefined()
    expect(await value('sourceSilent', 'new-hotel')).toBe(0)
    advance(3_600_000)
    w.check()
    expect(await value('sourceSilent', 'new-hotel')).toBe(1)
  })

  it('reads silentAfter as operators write it, and refuses what is not a duration', () => {
    expect(sourcesOf([{ id: 'a', type: 'dv2000', secrets: ['a-secret-1'], silentAfter: '90s' }])[0]!.silentAfter).toBe(90_000)
    expect(sourcesOf([{ id: 'a', type: 'dv2000', secrets: ['a-secret-1'], silentAfter: '2d' }])[0]!.silentAfter).toBe(172_800_000)
    expect(() => sourcesOf([{ id: 'a', type: 'dv2000', secrets: ['a-secret-1'], silentAfter: '6 hours' }])).toThrow(/sources\[0\]\.silentAfter: must be a number and a unit/)
    expect(() => sourcesOf([{ id: 'a', type: 'dv2000', secrets: ['a-secret-1'], silentAfter: '0s' }])).toThrow(/at least 1s/)
  })
})
