// A start that cannot serve exits non-zero with one clear line (SPEC §2): real child processes, real ports and folders.
import { spawn } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { createServer, type Server } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterEach, describe, expect, inject, it } from 'vitest'
import { freePort, startChild, type ChildBridge } from './support/child-bridge.js'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const SECRET = 'startup-secret-1'
const children: ChildBridge[] = []
const servers: Server[] = []

afterEach(async () => {
  for (const child of children.splice(0)) {
    child.kill('SIGKILL')
    await child.exited
  }
  await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))))
})

function baseConfig(dir: string, port: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    http: { host: '127.0.0.1', port },
    kafka: { brokers: [inject('kafkaBrokers')] },
    schemaRegistry: { url: inject('schemaRegistryUrl') },
    topicPrefix: 'startup.',
    spool: { dir: join(dir, 'spool') },
    sources: [{ id: 'front-desk', type: 'dv2000', secrets: [SECRET] }],
    ...extra,
  }
}

interface Exit {
  code: number | string
  stdout: string
  stderr: string
}

/** Runs `serve` on a config and waits (generously: this is not a speed test) for the process to exit by itself. */
async function serveUntilExit(config: Record<string, unknown>, dir: string, env: Record<string, string> = {}): Promise<Exit> {
  const file = join(dir, `config-${Math.random().toString(36).slice(2)}.yaml`)
  writeFileSync(file, JSON.stringify(config))
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src/main.ts'), 'serve', '--config', file], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, BRIDGE_CONFIG: undefined, ...env },
  })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
  const limit = setTimeout(() => child.kill('SIGKILL'), 60_000)
  const code = await new Promise<number | string>((resolve) => child.once('exit', (c, signal) => resolve(c ?? signal ?? -1)))
  clearTimeout(limit)
  return { code, stdout, stderr }
}

const lines = (text: string): string[] => text.split('\n').filter((l) => l.trim() !== '')

describe('start-up failures', () => {
  it('exits 1 naming host:port when the port is taken, instead of living on without listening', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bridge-startup-'))
    const port = await freePort()
    const taken = createServer()
    servers.push(taken)
    await new Promise<void>((resolve) => taken.listen(port, '127.0.0.1', resolve))
    const exit = await serveUntilExit(baseConfig(dir, port), dir)
    expect(exit.code).toBe(1)
    expect(lines(exit.stderr)).toEqual([`hotel-kafka-bridge: cannot listen on 127.0.0.1:${port}: the port is already in use (another bridge, or another program)`])
  })

  it('exits 1 naming the folder when another bridge holds the spool, and starts at once after that one is kill -9ed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bridge-startup-'))
    const first = await startChild(baseConfig(dir, await freePort()), dir)
    children.push(first)
    const second = await serveUntilExit(baseConfig(dir, await freePort()), dir)
    expect(second.code).toBe(1)
    expect(lines(second.stderr)).toEqual([
      `hotel-kafka-bridge: the spool folder ${join(dir, 'spool')} is in use by another process (pid ${first.pid}): each bridge needs a spool.dir of its own`,
    ])
    // The first one still serves.
    expect((await fetch(`${first.url}/healthz`)).status).toBe(200)

    first.kill('SIGKILL')
    await first.exited
    const replacement = await startChild(baseConfig(dir, await freePort()), dir)
    children.push(replacement)
    expect((await fetch(`${replacement.url}/healthz`)).status).toBe(200)
  })

  it('exits 1 naming the folder when the spool folder cannot be made (where node\'s recursive mkdir would spin for ever)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bridge-startup-'))
    const exit = await serveUntilExit(baseConfig(dir, await freePort(), { spool: { dir: '/proc/hotel-kafka-bridge/spool' } }), dir)
    expect(exit.code).toBe(1)
    expect(lines(exit.stderr)).toEqual([
      "hotel-kafka-bridge: cannot use the spool folder /proc/hotel-kafka-bridge/spool: ENOENT: no such file or directory, mkdir '/proc/hotel-kafka-bridge'",
    ])
  })

  it('exits 2 with one line for unreadable TLS files, invalid config, trustProxy: true and a stray BRIDGE_* variable', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bridge-startup-'))
    const port = await freePort()
    const tls = await serveUntilExit(baseConfig(dir, port, { http: { host: '127.0.0.1', port, tls: { certFile: join(dir, 'missing.pem'), keyFile: join(dir, 'missing.key') } } }), dir)
    expect(tls.code).toBe(2)
    expect(lines(tls.stderr)).toHaveLength(1)
    expect(tls.stderr).toContain(`http.tls: cannot read ${join(dir, 'missing.pem')}`)

    const invalid = await serveUntilExit(baseConfig(dir, port, { kafka: { brokers: ['no-port'] } }), dir)
    expect(invalid.code).toBe(2)
    expect(invalid.stderr).toMatch(/kafka\.brokers\[0\]: must be host:port/)

    const trustAll = await serveUntilExit(baseConfig(dir, port, { http: { host: '127.0.0.1', port, trustProxy: true } }), dir)
    expect(trustAll.code).toBe(2)
    expect(trustAll.stderr).toMatch(/http\.trustProxy: true would believe every X-Forwarded-For hop/)

    const stray = await serveUntilExit(baseConfig(dir, port), dir, { BRIDGE_SOURCES_FRONTDESK_SECRETS: 'a-long-secret-value' })
    expect(stray.code).toBe(2)
    expect(stray.stderr).toContain('BRIDGE_SOURCES_FRONTDESK_SECRETS: matches no configured source and key (did you mean BRIDGE_SOURCES_FRONT_DESK_SECRETS?)')
    expect(stray.stderr + stray.stdout).not.toContain('a-long-secret-value')
  })
})
