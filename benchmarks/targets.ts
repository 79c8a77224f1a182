// The processes a benchmark measures: a bridge (dist/) or the null fastify server, over HTTP or HTTPS, and their CPU time.
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { type Answer, stopProcess } from './common.js'

export interface Tls {
  certFile: string
  keyFile: string
  keyType: 'ec' | 'rsa'
}

/** A throw-away certificate for 127.0.0.1: an ECDSA P-256 key (the cheaper handshake) or an RSA 2048 one. */
export function makeCertificate(dir: string, keyType: Tls['keyType']): Tls {
  const certFile = join(dir, `cert-${keyType}.pem`)
  const keyFile = join(dir, `key-${keyType}.pem`)
  const key = keyType === 'ec' ? ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'] : ['-newkey', 'rsa:2048']
  execFileSync('openssl', ['req', '-x509', ...key, '-nodes', '-days', '2', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', keyFile, '-out', certFile], { stdio: 'ignore' })
  return { certFile, keyFile, keyType }
}

export interface Target {
  name: string
  port: number
  tls: Tls | undefined
  process: ChildProcess
}

export interface BridgeSettings {
  dir: string
  port: number
  tls?: Tls | undefined
  /** kafka.* keys beyond the brokers (lingerMs, …). */
  kafka?: Record<string, unknown>
  /** http.* keys beyond host, port and tls (maxConnections, processes, …). */
  http?: Record<string, unknown>
  /** Node flags, e.g. --cpu-prof. */
  flags?: string[]
  /** CPUs the bridge may run on (taskset -c), e.g. "1": its own core, away from the load and Kafka. */
  cpus?: string
  /** log.level; default warn. Its lines go to /dev/null, as a service manager's pipe would take them. */
  logLevel?: string
}

export const BROKERS = process.env['KAFKA_BROKERS'] ?? '127.0.0.1:9092'
export const REGISTRY = process.env['SCHEMA_REGISTRY_URL'] ?? 'http://127.0.0.1:8081/apis/ccompat/v7'

export function startBridge(settings: BridgeSettings): Target {
  const config = join(settings.dir, `bridge-${settings.port}.json`)
  const { tls } = settings
  writeFileSync(
    config,
    JSON.stringify({
      http: { host: '127.0.0.1', port: settings.port, ...settings.http, ...(tls === undefined ? {} : { tls: { certFile: tls.certFile, keyFile: tls.keyFile } }) },
      kafka: { brokers: [BROKERS], ...settings.kafka },
      schemaRegistry: { url: REGISTRY },
      topicPrefix: `bench-${randomUUID().slice(0, 8)}.`,
      spool: { dir: join(settings.dir, `spool-${settings.port}-${randomUUID().slice(0, 8)}`) },
      log: { level: settings.logLevel ?? 'warn' },
      sources: [{ id: 'bench', type: 'dv2000', secrets: ['bench-secret-1'] }],
    }),
  )
  const stdout = settings.logLevel === undefined ? 'inherit' : 'ignore'
  const command = [process.execPath, ...(settings.flags ?? []), 'dist/main.js', 'serve', '--config', config]
  // taskset execs node in its own process: the pid stays the bridge's.
  const [file, ...args] = settings.cpus === undefined ? command : ['taskset', '-c', settings.cpus, ...command]
  const child = spawn(file!, args, { stdio: ['ignore', stdout, 'inherit'] })
  return { name: 'bridge', port: settings.port, tls, process: child }
}

export function startNullServer(port: number, tls?: Tls, flags: string[] = []): Target {
  const args = [...flags, '--import', 'tsx', 'benchmarks/null-server.ts', String(port), ...(tls === undefined ? [] : [tls.certFile, tls.keyFile])]
  return { name: 'null fastify', port, tls, process: spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'inherit'] }) }
}

/** Waits until the target answers: the bridge delivering to Kafka (/readyz), the null server anything (404). */
export async function waitListening(target: Target): Promise<void> {
  const url = `${target.tls === undefined ? 'http' : 'https'}://127.0.0.1:${target.port}/readyz`
  let answered = false
  for (let i = 0; i < 240; i++) {
    if (target.process.exitCode !== null) throw new Error(`${target.name} exited with ${target.process.exitCode}`)
    const { status, body } = await probe(url, target.tls).catch(() => ({ status: 0, body: '' }))
    if (status === 404 || (status === 200 && body.includes('"delivering":"kafka"'))) return
    answered ||= status !== 0
    await new Promise((r) => setTimeout(r, 250))
  }
  throw new Error(answered ? `${target.name} does not deliver to Kafka at ${BROKERS} after 60 s (is the stack up? make stack-up)` : `${target.name} does not answer on ${target.port} after 60 s`)
}

async function probe(url: string, tls: Tls | undefined): Promise<{ status: number; body: string }> {
  if (tls === undefined) {
    const response = await fetch(url)
    return { status: response.status, body: await response.text() }
  }
  const { get } = await import('node:https')
  return new Promise((resolve, reject) => {
    get(url, { ca: readFileSync(tls.certFile) }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => (body += chunk))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }))
    }).on('error', reject)
  })
}

export const stop = (target: Target): Promise<void> => stopProcess(target.process)

const TICK_MS = 1000 / Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim())

/** User plus system CPU time the process has used, in ms (from /proc, in clock ticks). */
/** utime + stime of `pid` and its live descendants (a bridge's cluster workers), ms. */
export function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return (Number(fields[11]) + Number(fields[12])) * TICK_MS + childrenOf(pid).reduce((sum, child) => sum + cpuMs(child), 0)
}

function childrenOf(pid: number): number[] {
  const list = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim()
  return list === '' ? [] : list.split(' ').map(Number)
}

/** The bridge's produce calls so far (its /metrics); NaN for the null server. */
export async function produceCalls(target: Target): Promise<number> {
  if (target.name !== 'bridge') return NaN
  const { body } = await probe(`${target.tls === undefined ? 'http' : 'https'}://127.0.0.1:${target.port}/metrics`, target.tls)
  return Number(/^bridge_produce_calls_total\{result="ok"\} (\d+)/m.exec(body)?.[1] ?? NaN)
}

/** The Go load generator (benchmarks/loadgen), built once into .cache/ (Go's build cache makes a rebuild instant). */
export function goLoadGenerator(): string {
  const out = '.cache/loadgen'
  execFileSync('go', ['build', '-o', out, 'benchmarks/loadgen/main.go'], { stdio: 'inherit' })
  return out
}

/**
 * `count` events to `target` at `rate`, a new connection each (HTTPS when the target has a certificate), from the Go
 * generator, on `cpus` when given (taskset -c); each answer, refusal or time-out.
 */
export function loadFromGo(generator: string, target: Target, rate: number, count: number, options: { first?: number; timeoutMs: number; cpus?: string }): Promise<Answer[]> {
  const args = [String(target.port), target.tls?.certFile ?? '-', String(Math.round(rate)), String(count), String(options.first ?? 0), String(options.timeoutMs)]
  const [file, fileArgs] = options.cpus === undefined ? [generator, args] : ['taskset', ['-c', options.cpus, generator, ...args]]
  return new Promise((resolve, reject) => {
    execFile(file, fileArgs, { maxBuffer: 64 << 20 }, (error, stdout) => (error === null ? resolve(JSON.parse(stdout) as Answer[]) : reject(error)))
  })
}
