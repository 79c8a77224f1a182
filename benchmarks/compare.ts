// `make bench` (4 of 4): the bridge and a null fastify server (same HTTP settings; parses the JSON, answers 200) under the same
// requests, one after the other in one run: latency at a fixed rate with Connection: close (as DV2000 sends), events/s
// at full speed with keep-alive and with close in --rounds interleaved rounds (medians, and of each round's ratio
// bridge / null), and the bridge's RSS. Prints numbers; asserts nothing. Needs `make build` and a running stack.
// Usage: npx tsx benchmarks/compare.ts [--rate 1000] [--seconds 10] [--events 20000] [--concurrency 32] [--rounds 3] [--processes 1] [--linger MS] [--busy-linger MS] [--profile]
//   --processes: the bridge's http.processes (its RSS is then the primary's); --linger, --busy-linger: the bridge's
//   kafka.lingerMs and busyLingerMs (default: the config's); --profile: a bridge of its own under the
//   full-speed keep-alive load with --cpu-prof; prints where its time goes.
import { spawn, type ChildProcess } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs'
import http from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { headerHelp, median, post as postEvent, quantile, rssMiB, stopProcess as stop } from './common.js'
import { topSelfTime } from './profile.js'

const { values } = parseArgs({
  options: {
    rate: { type: 'string', default: '1000' },
    seconds: { type: 'string', default: '10' },
    events: { type: 'string', default: '20000' },
    concurrency: { type: 'string', default: '32' },
    rounds: { type: 'string', default: '3' },
    processes: { type: 'string', default: '1' },
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
const rounds = Number(values.rounds)
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

function startBridge(profileDir?: string): ChildProcess {
  const config = join(dir, 'bridge.json')
  writeFileSync(
    config,
    JSON.stringify({
      http: { host: '127.0.0.1', port: BRIDGE_PORT, processes: Number(values.processes) },
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

/** Warm-up: connections, JIT, and for the bridge its schema ids. A target that does not answer 200 is not measured. */
async function warmUp(name: string, port: number): Promise<void> {
  for (let i = 0; i < 300; i++) {
    const { status } = await post(port, i, false)
    if (status !== 200) throw new Error(`${name} answered ${status} during the warm-up: nothing to measure`)
  }
}

interface FullSpeedRound {
  keepAlive: { bridge: number; null: number; recordsPerProduceCall: number; meanProduceCallMs: number }
  close: { bridge: number; null: number }
  peakRssMiB: number
  errors: { bridge: number; null: number }
}

/** One round at full speed, keep-alive then close, each the null server's run then the bridge's. */
async function fullSpeedRound(bridgePid: number): Promise<FullSpeedRound> {
  const nullKeepAlive = await fullSpeed(NULL_PORT, true)
  const before = await produceCalls(BRIDGE_PORT)
  const bridgeKeepAlive = await fullSpeed(BRIDGE_PORT, true, bridgePid)
  const calls = perCall(events, before, await produceCalls(BRIDGE_PORT))
  const nullClose = await fullSpeed(NULL_PORT, false)
  const bridgeClose = await fullSpeed(BRIDGE_PORT, false, bridgePid)
  return {
    keepAlive: { bridge: bridgeKeepAlive.eventsPerSecond, null: nullKeepAlive.eventsPerSecond, ...calls },
    close: { bridge: bridgeClose.eventsPerSecond, null: nullClose.eventsPerSecond },
    peakRssMiB: Math.max(bridgeKeepAlive.peakRssMiB ?? 0, bridgeClose.peakRssMiB ?? 0),
    errors: { bridge: bridgeKeepAlive.errors + bridgeClose.errors, null: nullKeepAlive.errors + nullClose.errors },
  }
}

// Both run throughout, idle while the other is measured; rounds interleave them, so a machine that slows down for a
// while (these share it with Kafka and the load) slows both alike, and each round's ratio is of the same minutes.
const nullServer = spawn(process.execPath, ['--import', 'tsx', 'benchmarks/null-server.ts', String(NULL_PORT)], { stdio: ['ignore', 'ignore', 'inherit'] })
const bridge = startBridge()
let fixed: { bridge: Awaited<ReturnType<typeof fixedRate>> & ReturnType<typeof perCall>; null: Awaited<ReturnType<typeof fixedRate>> }
const fullSpeedRounds: FullSpeedRound[] = []
try {
  await Promise.all([waitListening(NULL_PORT), waitListening(BRIDGE_PORT)])
  await warmUp('null fastify', NULL_PORT)
  await warmUp('bridge', BRIDGE_PORT)
  const nullFixed = await fixedRate(NULL_PORT)
  const before = await produceCalls(BRIDGE_PORT)
  const bridgeFixed = await fixedRate(BRIDGE_PORT)
  fixed = { bridge: { ...bridgeFixed, ...perCall(rate * fixedSeconds, before, await produceCalls(BRIDGE_PORT)) }, null: nullFixed }
  for (let round = 0; round < rounds; round++) fullSpeedRounds.push(await fullSpeedRound(bridge.pid!))
} finally {
  await Promise.all([stop(nullServer), stop(bridge)])
}
/** The median, and each round's value in brackets. */
const cell = (xs: number[], digits = 0): string => `${median(xs).toFixed(digits)} (${xs.map((x) => x.toFixed(digits)).join(', ')})`
const ratios = (mode: 'keepAlive' | 'close'): number[] => fullSpeedRounds.map((r) => (100 * r[mode].bridge) / r[mode].null)
const line = (label: string, bridgeValue: string, nullValue: string, ratio = ''): string => `${label.padEnd(48)}${bridgeValue.padStart(26)}${nullValue.padStart(26)}${ratio.padStart(22)}`
console.log(`node ${process.version}; ${rate} events/s for ${fixedSeconds} s (Connection: close), then ${rounds} rounds of ${events} events by ${concurrency} senders (medians; each round's in brackets); kafka.lingerMs ${values.linger ?? 'default'}, busyLingerMs ${values['busy-linger'] ?? 'default'}; bridge http.processes ${values.processes}`)
console.log(line('', 'bridge', 'null fastify', 'bridge / null, %'))
console.log(line(`fixed ${rate}/s, close: p50 / p90 / p99 ms`, `${fixed.bridge.p50} / ${fixed.bridge.p90} / ${fixed.bridge.p99}`, `${fixed.null.p50} / ${fixed.null.p90} / ${fixed.null.p99}`))
console.log(line(`fixed ${rate}/s: records per produce call`, String(fixed.bridge.recordsPerProduceCall), '-'))
for (const [mode, label] of [['keepAlive', 'keep-alive'], ['close', 'close']] as const) {
  console.log(line(`full speed, ${label}: events/s`, cell(fullSpeedRounds.map((r) => r[mode].bridge)), cell(fullSpeedRounds.map((r) => r[mode].null)), cell(ratios(mode))))
}
console.log(line('full speed, keep-alive: records / call, call ms', `${cell(fullSpeedRounds.map((r) => r.keepAlive.recordsPerProduceCall), 1)} / ${median(fullSpeedRounds.map((r) => r.keepAlive.meanProduceCallMs)).toFixed(2)}`, '-'))
const errors = (target: 'bridge' | 'null'): number => fullSpeedRounds.reduce((n, r) => n + r.errors[target], fixed[target].errors)
console.log(line('answers other than 200', String(errors('bridge')), String(errors('null'))))
console.log(line('bridge RSS under full speed: peak MiB', String(Math.max(...fullSpeedRounds.map((r) => r.peakRssMiB))), '-'))
console.log(JSON.stringify({ fixed, fullSpeedRounds }))
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
