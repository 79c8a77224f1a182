// A reload: applied when it validates and changes only what may change live; refused whole otherwise, one line naming why.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { validateConfig } from '../../../src/config/load.js'
import type { BridgeConfig } from '../../../src/config/schema.js'
import { BridgeError, ErrorCodes } from '../../../src/errors.js'
import { createMetrics } from '../../../src/observability/metrics.js'
import { createReloader } from '../../../src/reload/reloader.js'
import { watchedFiles, watchFiles } from '../../../src/reload/watch.js'
import { capturingLogger } from '../delivery/spool-fixtures.js'

afterEach(() => vi.useRealTimers())

const frontDesk = { id: 'front-desk', type: 'dv2000', secrets: ['first-secret-1'] }
const lobby = { id: 'lobby', type: 'servio', secrets: ['lobby-secret-1'] }
const configOf = (sources: unknown[], extra: Record<string, unknown> = {}): BridgeConfig => validateConfig({ sources, ...extra })

function reloaderFor(initial: BridgeConfig, next: () => BridgeConfig, apply: (c: BridgeConfig) => Promise<void> = async () => undefined) {
  const { logger, lines } = capturingLogger()
  const metrics = createMetrics({ defaultMetrics: false })
  let clock = 1_000_000
  const reloader = createReloader({ load: next, apply, initial, logger, metrics, now: () => clock })
  const count = async (result: string) => (await metrics.configReloads.get()).values.find((v) => v.labels['result'] === result)?.value ?? 0
  const lastOk = async () => (await metrics.configLastReload.get()).values[0]?.value
  return { reloader, lines, count, lastOk, tick: (ms: number) => (clock += ms) }
}

describe('createReloader', () => {
  it('applies a config that changes the sources: one line naming what was added, removed and changed; counted, timed', async () => {
    const { reloader, lines, count, lastOk, tick } = reloaderFor(configOf([frontDesk]), () => configOf([{ ...frontDesk, secrets: ['second-secret-2'] }, lobby]))
    expect(await lastOk()).toBe(1_000)
    tick(5_000)
    expect(await reloader.reload('SIGHUP')).toBe('ok')
    expect(reloader.current.sources.map((s) => s.id)).toEqual(['front-desk', 'lobby'])
    expect(lines.filter((l) => l['msg'] === 'configuration reloaded')).toEqual([expect.objectContaining({ trigger: 'SIGHUP', added: ['lobby'], removed: [], changed: ['front-desk'] })])
    expect(await count('ok')).toBe(1)
    expect(await lastOk()).toBe(1_005)
    // No secret in the line: only ids.
    expect(JSON.stringify(lines)).not.toContain('second-secret-2')
  })

  it('refuses an invalid config whole, naming every key at fault in one line; the running config stays', async () => {
    const initial = configOf([frontDesk])
    const invalid = (): BridgeConfig => {
      throw new BridgeError(ErrorCodes.CONFIG_INVALID, 'config file /etc/bridge.yaml is invalid:\n  - sources[1].secrets: at least one secret is required\n  - http.port: too big')
    }
    const { reloader, lines, count } = reloaderFor(initial, invalid)
    expect(await reloader.reload('SIGHUP')).toBe('invalid')
    expect(reloader.current).toBe(initial)
    const refused = lines.filter((l) => l['level'] === 'error')
    expect(refused).toHaveLength(1)
    expect(String(refused[0]!['reason'])).toContain('sources[1].secrets')
    expect(String(refused[0]!['reason'])).toContain('http.port')
    expect(await count('invalid')).toBe(1)
  })

  it('refuses a change only a restart can make, naming the keys, and applies nothing of it', async () => {
    const initial = configOf([frontDesk])
    let applied = 0
    const { reloader, lines, count } = reloaderFor(initial, () => configOf([frontDesk, lobby], { http: { port: 9999 }, spool: { dir: '/elsewhere' } }), async () => void applied++)
    expect(await reloader.reload('SIGHUP')).toBe('refused')
    expect(applied).toBe(0)
    expect(reloader.current).toBe(initial)
    expect(lines.find((l) => l['level'] === 'error')).toMatchObject({ keys: ['http.port', 'spool.dir'], msg: 'configuration reload refused: http.port, spool.dir change only at a restart; the running configuration stays' })
    expect(await count('refused')).toBe(1)
  })

  it('refuses what cannot be applied (a certificate that is not its key\'s), keeping the running config', async () => {
    const initial = configOf([frontDesk])
    const { reloader, count } = reloaderFor(initial, () => configOf([frontDesk, lobby]), async () => {
      throw new BridgeError(ErrorCodes.CONFIG_INVALID, 'http.tls: cert.pem and key.pem are not a certificate and its key')
    })
    expect(await reloader.reload('SIGHUP')).toBe('invalid')
    expect(reloader.current).toBe(initial)
    expect(await count('invalid')).toBe(1)
  })

  it('runs one reload at a time: signals during one make one more after it, which reads what changed meanwhile', async () => {
    let release: () => void = () => undefined
    let loads = 0
    let sources = [frontDesk]
    const { reloader } = reloaderFor(configOf([frontDesk]), () => (loads++, configOf(sources)), () => new Promise<void>((resolve) => (release = resolve)))
    const first = reloader.reload('SIGHUP')
    sources = [frontDesk, lobby]
    const second = reloader.reload('SIGHUP')
    const third = reloader.reload('SIGHUP')
    expect(second).toBe(third)
    release()
    await first
    await vi.waitFor(() => expect(loads).toBe(2))
    release()
    expect(await second).toBe('ok')
    expect(loads).toBe(2)
    expect(reloader.current.sources.map((s) => s.id)).toEqual(['front-desk', 'lobby'])
  })
})

describe('watchFiles', () => {
  it('calls back once per interval in which a watched file changed, a swapped-in file included; not when nothing changed', () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] })
    const dir = mkdtempSync(join(tmpdir(), 'bridge-watch-'))
    try {
      const config = join(dir, 'bridge.yaml')
      const secrets = join(dir, 'secrets')
      writeFileSync(config, 'a: 1\n')
      writeFileSync(secrets, 'first-secret-1\n')
      let changes = 0
      const watch = watchFiles(() => [config, secrets], 1_000, () => changes++)
      vi.advanceTimersByTime(3_000)
      expect(changes).toBe(0)
      writeFileSync(secrets, 'second-secret-2\n')
      writeFileSync(config, 'a: 2\n')
      vi.advanceTimersByTime(1_000)
      expect(changes).toBe(1)
      vi.advanceTimersByTime(5_000)
      expect(changes).toBe(1)
      // Kubernetes' swap: the file gone for a moment, then back with new content; each is a change.
      rmSync(secrets)
      vi.advanceTimersByTime(1_000)
      writeFileSync(secrets, 'third-secret-3\n')
      vi.advanceTimersByTime(1_000)
      expect(changes).toBe(3)
      watch.stop()
      writeFileSync(config, 'a: 3\n')
      vi.advanceTimersByTime(5_000)
      expect(changes).toBe(3)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('watches the config file, the sources\' secrets files and the HTTPS certificate and key', () => {
    const config = { sources: [{ secretsFile: '/run/secrets/desk' }, {}], http: { tls: { certFile: '/etc/tls/cert.pem', keyFile: '/etc/tls/key.pem' } } } as unknown as BridgeConfig
    expect(watchedFiles('/etc/bridge.yaml', config)).toEqual(['/etc/bridge.yaml', '/run/secrets/desk', '/etc/tls/cert.pem', '/etc/tls/key.pem'])
  })
})
