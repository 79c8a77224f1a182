// A source that falls silent (a DV2000 upgraded, its Events server dropped from the server list) is flagged, then cleared
// when it speaks again: the metrics and the two log lines of a running bridge (a child process, the real stack).
import { afterEach, describe, expect, it } from 'vitest'
import { childSetup, startChild, type ChildBridge } from './support/child-bridge.js'
import { metric, send, STREAM_SECRET } from './support/stream.js'

const children: ChildBridge[] = []
afterEach(async () => {
  for (const child of children.splice(0)) {
    child.kill('SIGKILL')
    await child.exited
  }
})

describe('silent sources', () => {
  it('flags a source that sent nothing for silentAfter (metric, one warning) and clears it at its next event', { timeout: 120_000 }, async () => {
    const s = await childSetup('silent', STREAM_SECRET)
    const child = await startChild(s.config({ sources: [{ id: 'front-desk', type: 'dv2000', secrets: [STREAM_SECRET], silentAfter: '2s' }] }), s.dir)
    children.push(child)
    expect((await send(child.url, 'room-1', 1)).status).toBeGreaterThanOrEqual(200)
    const heardAt = await metric(child.url, 'bridge_source_last_event_timestamp_seconds{source="front-desk"}')
    expect(heardAt).toBeGreaterThan(Date.now() / 1000 - 60)
    await expect.poll(() => metric(child.url, 'bridge_source_silent{source="front-desk"}'), { timeout: 60_000, interval: 250 }).toBe(1)
    const warnings = () => child.output().split('\n').filter((l) => l.includes('"level":"warn"') && l.includes('source front-desk has sent nothing for 2s or more'))
    await expect.poll(() => warnings().length, { timeout: 10_000, interval: 100 }).toBe(1)

    expect((await send(child.url, 'room-1', 2)).status).toBe(200)
    expect(await metric(child.url, 'bridge_source_silent{source="front-desk"}')).toBe(0)
    await expect.poll(() => child.output().includes('"msg":"source front-desk speaks again"'), { timeout: 10_000, interval: 100 }).toBe(true)
  })
})
