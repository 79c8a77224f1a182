// `make bench` (4 of 4): the bridge and a null fastify server (same HTTP settings; parses the JSON, answers 200) under the same
// requests, one after the other in one run: latency at a fixed rate with Connection: close (as DV2000 sends), events/s
// at full speed with keep-alive and with close, the ratio bridge / null, and the bridge's RSS. Prints numbers; asserts
// nothing. Needs `make build` and a running stack (make stack-up).
// Usage: npx tsx benchmarks/compare.ts [--rate 1000] [--seconds 10] [--events 20000] [--concurrency 32] [--linger MS] [--busy-linger MS] [--profile]
//   --linger, --busy-linger: the bridge's kafka.lingerMs and busyLingerMs (default: the config's); --profile: a bridge of its own under the
//   full-speed keep-alive load with --cpu-prof; prints where its time goes.
import { spawn, type ChildProcess } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs'
import http from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { headerHelp, post as postEvent, quantile, rssMiB } from './common.js'
import { topSelfTime } from './profile.js'

const { values } = parseArgs({
  options: {
    rate: { type: 'string', default: '1000' },
    seconds: { type: 'string', default: '10' },
    events: { type: 'string', default: '20000' },
    concurrency: { type: 'string', default: '32' },
    profile: { type: 'boolean', default: false },
    linger: { type: 'string' },
    'busy-linger': { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },
})
if (values.help) {
  process.stdout.write(headerHelp(import.meta.url))
  process.exit(0)
}
const rate = Number(values.rate)
const fixedSeconds = Number(values.seconds)
const events = Number(values.events)
const concurrency = Number(values.concurrency)
const brokers = process.env['KAFKA_BROKERS'] ?? '127.0.0.1:9092'
const registry = process.env['SCHEMA_REGISTRY_URL'] ?? 'http://127.0.0.1:8081/apis/ccompat/v7'
const dir = mkdtempSync(join(tmpdir(), 'bridge-compare-'))
const BRIDGE_PORT = 18080
const NULL_PORT = 18081

/** A request to `port`: through `agent`, or (false) on a connection of its own with Connection: close. */
const post = (port: number, i: number, agent: http.Agent | false): Promise<{ status: number; ms: number }> => postEvent(port, i, agent, agent === false)

/** Open loop: request i leaves at start + i/rate whatever the answers do, each on a connection of its own. */
async function fixedRate(port: number): Promise<{ p50: number; p90: number; p99: number; max: number; errors: number }> {
  const total = rate * fixedSeconds
  const latencies: number[] = []
  let errors = 0
  const start = performance.now()
  const pending: Promise<void>[] = []
  for (let i = 0; i < total; i++) {
    const due = start + (i * 1000) / rate
    const wait = due - performance.now()
    if (wait > 1) await new Promise((r) => setTimeout(r, wait))
    pending.push(
      post(port, i, false).then(
        ({ status, ms }) => {
          if (status === 200) latencies.push(ms)
          else errors++
        },
        () => void errors++,
      ),
    )
  }
  await Promise.all(pending)
  latencies.sort((a, b) => a - b)
  const round = (n: number): number => Number(n.toFixed(2))
  return { p50: round(quantile(latencies, 0.5)), p90: round(quantile(latencies, 0.9)), p99: round(quantile(latencies, 0.99)), max: round(latencies.at(-1) ?? NaN), errors }
}

/** Closed loop: `concurrency` senders, each sending its next request when the last is answered. */
async function fullSpeed(port: number, keepAlive: boolean, pid?: number): Promise<{ eventsPerSecond: number; errors: number; peakRssMiB?: number }> {
  const agent = keepAlive ? new http.Agent({ keepAlive: true, maxSockets: concurrency }) : false
  let next = 0
  let errors = 0
  let peak = 0
  const sample = pid === undefined ? undefined : setInterval(() => (peak = Math.max(peak, rssMiB(pid).rss)), 100)
  const started = performance.now()
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < events) {
        const { status } = await post(port, next++, agent).catch(() => ({ status: 0 }))
        if (status !== 200) errors++
      }
    }),
  )
  const seconds = (performance.now() - started) / 1000
  clearInterval(sample)
  if (agent !== false) agent.destroy()
  return { eventsPerSecond: Math.round(events / seconds), errors, ...(pid === undefined ? {} : { peakRssMiB: Math.round(Math.max(peak, rssMiB(pid).rss)) }) }
}

async function waitListening(port: number): Promise<void> {
  for (let i = 0; i < 240; i++) {
    try {
      const res = await fetch(`http://127.0.0.1:${port}/readyz`)
      // The bridge is ready before it reaches Kafka (it spools meanwhile): measured only once it delivers.
      if (res.status === 404 || (res.status === 200 && (await res.text()).includes('"delivering":"kafka"'))) return
    } catch {
      // not yet
    }
    await new Promise((r) => setTimeout(r, 250))
  }
  throw new Error(`nothing listens on ${port} after 60 s`)
}

async function stop(child: ChildProcess): Promise<void> {
  const exited = new Promise((resolve) => child.once('exit', resolve))
  child.kill('SIGTERM')
  await exited
}

function startBridge(profileDir?: string): ChildProcess {
  const config = join(dir, 'bridge.json')
  writeFileSync(
    config,
    JSON.stringify({
      http: { host: '127.0.0.1', port: BRIDGE_PORT },
      kafka: {
        brokers: [brokers],
        ...(values.linger === undefined ? {} : { lingerMs: Number(values.linger) }),
        ...(values['busy-linger'] === undefined ? {} : { busyLingerMs: Number(values['busy-linger']) }),
      },
      schemaRegistry: { url: registry },
      topicPrefix: `bench-${randomUUID().slice(0, 8)}.`,
      spool: { dir: join(dir, `spool-${randomUUID().slice(0, 8)}`) },
      log: { level: 'warn' },
      sources: [{ id: 'bench', type: 'dv2000', secrets: ['bench-secret-1'] }],
    }),
  )
  const flags = profileDir === undefined ? [] : ['--cpu-prof', '--cpu-prof-dir', profileDir]
  return spawn(process.execPath, [...flags, 'dist/main.js', 'serve', '--config', config], { stdio: ['ignore', 'inherit', 'inherit'] })
}

/** The bridge's produce calls so far and the seconds they took (its /metrics). */
async function produceCalls(port: number): Promise<{ calls: number; seconds: number }> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text()
  const value = (pattern: RegExp): number => Number(pattern.exec(text)?.[1] ?? NaN)
  return { calls: value(/^bridge_produce_calls_total\{result="ok"\} (\d+)/m), seconds: value(/^bridge_produce_call_duration_seconds_sum ([\d.e+-]+)/m) }
}

/** Records per produce call and a call's mean duration between two readings of produceCalls. */
function perCall(records: number, before: { calls: number; seconds: number }, after: { calls: number; seconds: number }) {
  const calls = after.calls - before.calls
  return { recordsPerProduceCall: Number((records / calls).toFixed(2)), meanProduceCallMs: Number(((1000 * (after.seconds - before.seconds)) / calls).toFixed(2)) }
}

async function measure(name: string, port: number, pid: number | undefined): Promise<Record<string, unknown>> {
  // Warm-up: connections, JIT, and for the bridge its schema ids. A target that does not answer 200 is not measured.
  for (let i = 0; i < 300; i++) {
    const { status } = await post(port, i, false)
    if (status !== 200) throw new Error(`${name} answered ${status} during the warm-up: nothing to measure`)
  }
  const isBridge = pid !== undefined
  const atStart = isBridge ? await produceCalls(port) : undefined
  const atRate = await fixedRate(port)
  const afterRate = isBridge ? await produceCalls(port) : undefined
  const keepAlive = await fullSpeed(port, true, pid)
  const afterKeepAlive = isBridge ? await produceCalls(port) : undefined
  const close = await fullSpeed(port, false, pid)
  return {
    target: name,
    fixedRate: { ...atRate, ...(isBridge ? perCall(rate * fixedSeconds, atStart!, afterRate!) : {}) },
    fullSpeedKeepAlive: { ...keepAlive, ...(isBridge ? perCall(events, afterRate!, afterKeepAlive!) : {}) },
    fullSpeedClose: close,
  }
}

const nullServer = spawn(process.execPath, ['--import', 'tsx', 'benchmarks/null-server.ts', String(NULL_PORT)], { stdio: ['ignore', 'ignore', 'inherit'] })
let nullResult: Record<string, unknown>
try {
  await waitListening(NULL_PORT)
  nullResult = await measure('null fastify', NULL_PORT, undefined)
} finally {
  await stop(nullServer)
}
const bridge = startBridge()
let bridgeResult: Record<string, unknown>
try {
  await waitListening(BRIDGE_PORT)
  bridgeResult = await measure('bridge', BRIDGE_PORT, bridge.pid)
} finally {
  await stop(bridge)
}
type Measured = { fixedRate: { p50: number; p90: number; p99: number; errors: number }; fullSpeedKeepAlive: { eventsPerSecond: number }; fullSpeedClose: { eventsPerSecond: number; peakRssMiB?: number } }
const b = bridgeResult as unknown as Measured & { fullSpeedKeepAlive: { peakRssMiB: number } }
const z = nullResult as unknown as Measured
const line = (label: string, bridgeValue: string, nullValue: string, ratio = ''): string => `${label.padEnd(42)}${bridgeValue.padStart(24)}${nullValue.padStart(24)}${ratio.padStart(8)}`
console.log(`node ${process.version}; ${rate} events/s for ${fixedSeconds} s (Connection: close), then ${events} events by ${concurrency} senders; kafka.lingerMs ${values.linger ?? 'default'}, busyLingerMs ${values['busy-linger'] ?? 'default'}`)
console.log(line('', 'bridge', 'null fastify', 'ratio'))
console.log(line(`fixed ${rate}/s, close: p50 / p90 / p99 ms`, `${b.fixedRate.p50} / ${b.fixedRate.p90} / ${b.fixedRate.p99}`, `${z.fixedRate.p50} / ${z.fixedRate.p90} / ${z.fixedRate.p99}`))
const ratio = (x: number, y: number): string => `${Math.round((100 * x) / y)} %`
console.log(line(`fixed ${rate}/s: records per produce call`, String((b.fixedRate as { recordsPerProduceCall?: number }).recordsPerProduceCall), '-'))
const keepAliveCalls = b.fullSpeedKeepAlive as unknown as ReturnType<typeof perCall>
console.log(line('full speed, keep-alive: records / call, call ms', `${keepAliveCalls.recordsPerProduceCall} / ${keepAliveCalls.meanProduceCallMs}`, '-'))
console.log(line(`full speed, keep-alive: events/s`, String(b.fullSpeedKeepAlive.eventsPerSecond), String(z.fullSpeedKeepAlive.eventsPerSecond), ratio(b.fullSpeedKeepAlive.eventsPerSecond, z.fullSpeedKeepAlive.eventsPerSecond)))
console.log(line(`full speed, close: events/s`, String(b.fullSpeedClose.eventsPerSecond), String(z.fullSpeedClose.eventsPerSecond), ratio(b.fullSpeedClose.eventsPerSecond, z.fullSpeedClose.eventsPerSecond)))
const errors = (m: Record<string, unknown>): number =>
  ['fixedRate', 'fullSpeedKeepAlive', 'fullSpeedClose'].reduce((n, k) => n + ((m[k] as { errors: number }).errors ?? 0), 0)
console.log(line('answers other than 200', String(errors(bridgeResult)), String(errors(nullResult))))
console.log(line(`bridge RSS under full speed: peak MiB`, String(Math.max(b.fullSpeedKeepAlive.peakRssMiB, b.fullSpeedClose.peakRssMiB ?? 0)), '-'))
console.log(JSON.stringify({ bridge: bridgeResult, null: nullResult }))
if (values.profile) {
  // A bridge of its own under the full-speed keep-alive load only (after a warm-up), profiled by V8.
  const profileDir = mkdtempSync(join(tmpdir(), 'bridge-profile-'))
  const profiled = startBridge(profileDir)
  let profiledSpeed: number
  try {
    await waitListening(BRIDGE_PORT)
    for (let i = 0; i < 300; i++) await post(BRIDGE_PORT, i, false)
    profiledSpeed = (await fullSpeed(BRIDGE_PORT, true)).eventsPerSecond
  } finally {
    await stop(profiled)
  }
  const file = readdirSync(profileDir).find((f) => f.endsWith('.cpuprofile'))
  if (file !== undefined) {
    console.log(`bridge CPU profile at full speed, keep-alive (${profiledSpeed} events/s while profiled; ${join(profileDir, file)}), self time:`)
    for (const row of topSelfTime(join(profileDir, file))) console.log(`  ${row}`)
  }
}
