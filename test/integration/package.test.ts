// The published package works where it is installed: npm pack, npm install of the tarball, then the installed command serves.
import { execFileSync, spawn } from 'node:child_process'
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, inject, it } from 'vitest'
import { freePort } from './support/child-bridge.js'
import { post } from './support/kafka.js'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const SECRET = 'package-secret-1'

describe('the npm package', () => {
  it('installs from its tarball and runs: --help, then serve takes an event into Kafka and SIGTERM stops it', { timeout: 300_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bridge-package-'))
    // prepack compiles dist/ first, so the tarball never carries a stale build.
    execFileSync('npm', ['pack', '--pack-destination', dir, '--silent'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'], timeout: 240_000 })
    const tarball = readdirSync(dir).find((name) => name.endsWith('.tgz'))!
    const app = join(dir, 'app')
    execFileSync('mkdir', ['-p', app])
    writeFileSync(join(app, 'package.json'), '{"name":"bridge-install-check","private":true}')
    execFileSync('npm', ['install', join(dir, tarball), '--no-audit', '--no-fund', '--prefer-offline', '--silent'], { cwd: app, stdio: ['ignore', 'ignore', 'inherit'], timeout: 240_000 })
    const bin = join(app, 'node_modules', '.bin', 'hotel-kafka-bridge')

    const help = execFileSync(bin, ['--help'], { encoding: 'utf8' })
    expect(help).toContain('Usage: hotel-kafka-bridge <command>')
    expect(help).toContain('spool status')

    const port = await freePort()
    const config = join(dir, 'bridge.yaml')
    writeFileSync(
      config,
      JSON.stringify({
        http: { host: '127.0.0.1', port },
        kafka: { brokers: [inject('kafkaBrokers')] },
        schemaRegistry: { url: inject('schemaRegistryUrl') },
        topicPrefix: `pkg-${port}.`,
        spool: { dir: join(dir, 'spool') },
        sources: [{ id: 'front-desk', type: 'dv2000', secrets: [SECRET] }],
      }),
    )
    // Run from elsewhere: nothing may depend on the repository being the working directory.
    const child = spawn(bin, ['serve', '--config', config], { cwd: tmpdir(), stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, BRIDGE_CONFIG: undefined } })
    let output = ''
    child.stdout.on('data', (c: Buffer) => (output += c.toString()))
    child.stderr.on('data', (c: Buffer) => (output += c.toString()))
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
    try {
      const url = `http://127.0.0.1:${port}`
      await expect.poll(async () => (await fetch(`${url}/readyz`).then((r) => r.json()).catch(() => ({}))) as Record<string, unknown>, { timeout: 60_000, interval: 250 }).toMatchObject({ delivering: 'kafka' })
      const event = '{"category":3,"date":"2023/09/13","event":12,"message":{"room":"100-101"},"service_id":1064,"service_name":"Visitant","time":"08:07:46","timestamp":"2023-09-13T08:07:46-07:00"}'
      const answer = await post(`${url}/v1/dv2000/front-desk?token=${SECRET}`, event)
      expect(answer.status, output).toBe(200)
      expect(answer.json).toMatchObject({ status: 'produced', records: 1 })
      const health = execFileSync(bin, ['health', '--config', config], { encoding: 'utf8', env: { ...process.env, BRIDGE_CONFIG: undefined } })
      expect(health).toBe('')
    } finally {
      child.kill('SIGTERM')
    }
    expect(await exited).toBe(0)
    expect(output).toContain('stopped cleanly')
  })
})
