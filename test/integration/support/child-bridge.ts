// The bridge as a child process (node + tsx on src/main.ts), so tests can SIGKILL or SIGTERM it for real.
import { randomUUID } from 'node:crypto'
import { spawn, type ChildProcess } from 'node:child_process'
import { get as httpGet } from 'node:http'
import { get as httpsGet } from 'node:https'
import { createServer } from 'node:net'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { inject } from 'vitest'

const ROOT = fileURLToPath(new URL('../../../', import.meta.url))

export interface ChildBridge {
  url: string
  pid: number
  /** The file it was started on: rewrite it and SIGHUP for a reload. */
  configFile: string
  /** Everything the child wrote, stdout and stderr. */
  output(): string
  /** Resolves with the exit code (or the signal's name). */
  exited: Promise<number | string>
  kill(signal: NodeJS.Signals): void
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port'))))
    })
  })
}

/** GET /healthz's status (0 while nothing answers), over HTTPS too: a test's throw-away certificate is not checked here. */
function healthz(url: string): Promise<number> {
  return new Promise((resolve) => {
    const request = (url.startsWith('https:') ? httpsGet : httpGet)(`${url}/healthz`, { rejectUnauthorized: false }, (response) => {
      response.resume()
      resolve(response.statusCode ?? 0)
    })
    request.on('error', () => resolve(0))
  })
}

/** Starts `hotel-kafka-bridge serve` on `config` (written as YAML-compatible JSON) and waits for /healthz. */
export async function startChild(config: Record<string, unknown>, dir: string): Promise<ChildBridge> {
  const file = join(dir, `config-${Date.now()}.yaml`)
  writeFileSync(file, JSON.stringify(config))
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src/main.ts'), 'serve', '--config', file], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, BRIDGE_CONFIG: undefined },
  })
  let output = ''
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()))
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()))
  const exited = new Promise<number | string>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? -1)))
  const http = config['http'] as { port: number; tls?: unknown }
  const url = `${http.tls === undefined ? 'http' : 'https'}://127.0.0.1:${http.port}`
  const deadline = Date.now() + 60_000
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`the bridge exited during start-up:\n${output}`)
    if ((await healthz(url)) === 200) break
    if (Date.now() > deadline) {
      child.kill('SIGKILL')
      throw new Error(`the bridge did not listen within 60 s:\n${output}`)
    }
    await new Promise((r) => setTimeout(r, 200))
  }
  return { url, pid: child.pid!, configFile: file, output: () => output, exited, kill: (signal) => child.kill(signal) }
}

/** Polls /readyz until its `delivering` is the one wanted. */
export async function waitDelivering(url: string, want: 'kafka' | 'spool', timeoutMs = 60_000): Promise<Record<string, unknown>> {
  const deadline = Date.now() + timeoutMs
  let last: Record<string, unknown> = {}
  while (Date.now() < deadline) {
    try {
      last = (await (await fetch(`${url}/readyz`)).json()) as Record<string, unknown>
      if (last['delivering'] === want) return last
    } catch {
      // restarting
    }
    await new Promise((r) => setTimeout(r, 250))
  }
  throw new Error(`readyz never said delivering=${want}; last: ${JSON.stringify(last)}`)
}

export interface ChildSetup {
  port: number
  /** A temp folder for the config file and, unless given another, the spool. */
  dir: string
  /** A fresh topic prefix: the test reads only its own records. */
  prefix: string
  /** The child's config: one DV2000 source, a short ackTimeoutMs and probe interval; `extra` replaces whole keys. */
  config: (extra?: Record<string, unknown>) => Record<string, unknown>
}

/** What a child-process test needs: a free port, a folder, a prefix and a config against the real stack. */
export async function childSetup(name: string, secret: string, spoolDir?: string): Promise<ChildSetup> {
  const port = await freePort()
  const dir = mkdtempSync(join(tmpdir(), `bridge-${name}-`))
  const prefix = `${name.slice(0, 4)}-${randomUUID().slice(0, 8)}.`
  return {
    port,
    dir,
    prefix,
    config: (extra = {}) => ({
      http: { host: '127.0.0.1', port },
      kafka: { brokers: [inject('kafkaBrokers')], ackTimeoutMs: 1_500, probeIntervalMs: 1_000 },
      schemaRegistry: { url: inject('schemaRegistryUrl') },
      topicPrefix: prefix,
      spool: { dir: spoolDir ?? join(dir, 'spool') },
      log: { level: 'info' },
      sources: [{ id: 'front-desk', type: 'dv2000', secrets: [secret] }],
      ...extra,
    }),
  }
}
