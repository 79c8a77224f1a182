// Benchmark: DV2000 events/s and latency through a bridge child process, and how fast a spool backlog drains.
// Usage: npx tsx benchmarks/ingest.ts [--mode direct|spool|drain] [--events 20000] [--concurrency 32] [--keep-alive]
//   direct: to the real local Kafka (acks=all)    spool: Kafka unreachable, every event fsynced to the spool
//   drain:  spool N events with Kafka unreachable, then restart the bridge against Kafka and time the replay
// Prints numbers; asserts nothing. Needs `make build` and a running stack (`make stack-up`).
import { spawn, type ChildProcess } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { mkdtempSync, writeFileSync } from 'node:fs'
import http from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { headerHelp, post, quantile, rssMiB, stopProcess as stopBridge } from './common.js'

const { values } = parseArgs({
  options: {
    events: { type: 'string', default: '20000' },
    concurrency: { type: 'string', default: '32' },
    'keep-alive': { type: 'boolean', default: false },
    port: { type: 'string', default: '18080' },
    mode: { type: 'string', default: 'direct' },
    help: { type: 'boolean', short: 'h' },
  },
})
if (values.help) {
  process.stdout.write(headerHelp(import.meta.url))
  process.exit(0)
}
const mode = values.mode as 'direct' | 'spool' | 'drain'
if (!['direct', 'spool', 'drain'].includes(mode)) throw new Error('--mode is direct, spool or drain')
const events = Number(values.events)
const concurrency = Number(values.concurrency)
const port = Number(values.port)
const brokers = process.env['KAFKA_BROKERS'] ?? '127.0.0.1:9092'
const registry = process.env['SCHEMA_REGISTRY_URL'] ?? 'http://127.0.0.1:8081/apis/ccompat/v7'
const dir = mkdtempSync(join(tmpdir(), 'bridge-bench-'))
const prefix = `bench-${randomUUID().slice(0, 8)}.`
/** A port nothing listens on: Kafka "down" without touching the shared broker. */
const NO_KAFKA = '127.0.0.1:9'
function writeConfig(kafkaBrokers: string): string {
  const file = join(dir, `bench-${kafkaBrokers === NO_KAFKA ? 'down' : 'up'}.yaml`)
  writeFileSync(
  file,
  JSON.stringify({
    http: { host: '127.0.0.1', port },
    kafka: { brokers: [kafkaBrokers] },
    schemaRegistry: { url: registry },
    topicPrefix: prefix,
    spool: { dir: join(dir, 'spool') },
    log: { level: 'warn' },
    sources: [{ id: 'bench', type: 'dv2000', secrets: ['bench-secret-1'] }],
  }),
  )
  return file
}

const agent = new http.Agent({ keepAlive: values['keep-alive'], maxSockets: concurrency })

const postOnce = (i: number): Promise<{ status: number; ms: number }> => post(port, i, agent, !values['keep-alive'])

async function readyz(): Promise<{ delivering?: string; spool?: { entries: number } } | undefined> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/readyz`)
    return res.status === 200 ? ((await res.json()) as { delivering?: string; spool?: { entries: number } }) : undefined
  } catch {
    return undefined
  }
}

async function waitReady(): Promise<void> {
  for (let i = 0; i < 120; i++) {
    if ((await readyz()) !== undefined) return
    await new Promise((r) => setTimeout(r, 500))
  }
  throw new Error('bridge not ready after 60 s')
}

function startBridge(configFile: string): ChildProcess {
  return spawn(process.execPath, ['dist/main.js', 'serve', '--config', configFile], { stdio: ['ignore', 'inherit', 'inherit'] })
}

async function load(child: ChildProcess): Promise<Record<string, unknown>> {
  // Warm-up: schema ids cached, connections made, JIT warm.
  for (let i = 0; i < 200; i++) await postOnce(i)
  const idle = rssMiB(child.pid!)
  const latencies: number[] = []
  const statuses = new Map<number, number>()
  let next = 0
  const started = process.hrtime.bigint()
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < events) {
        const { status, ms } = await postOnce(next++)
        latencies.push(ms)
        statuses.set(status, (statuses.get(status) ?? 0) + 1)
      }
    }),
  )
  const seconds = Number(process.hrtime.bigint() - started) / 1e9
  latencies.sort((a, b) => a - b)
  const mem = rssMiB(child.pid!)
  const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text()
  const calls = Number(/^bridge_produce_calls_total\{result="ok"\} (\d+)/m.exec(metrics)?.[1] ?? NaN)
  return {
    events,
    concurrency,
    connection: values['keep-alive'] ? 'keep-alive' : 'close (as DV2000 sends)',
    seconds: Number(seconds.toFixed(2)),
    eventsPerSecond: Math.round(events / seconds),
    latencyMs: { p50: quantile(latencies, 0.5).toFixed(2), p90: quantile(latencies, 0.9).toFixed(2), p99: quantile(latencies, 0.99).toFixed(2), max: latencies.at(-1)?.toFixed(2) },
    statuses: Object.fromEntries(statuses),
    ...(mode === 'direct' ? { produceCalls: calls, recordsPerProduceCall: Number(((events + 200) / calls).toFixed(1)) } : {}),
    bridgeRssMiB: { idleAfterWarmup: Math.round(idle.rss), end: Math.round(mem.rss), peak: Math.round(mem.hwm) },
  }
}

async function run(): Promise<void> {
  const child = startBridge(writeConfig(mode === 'direct' ? brokers : NO_KAFKA))
  let result: Record<string, unknown>
  try {
    await waitReady()
    result = { mode: mode === 'direct' ? 'direct to Kafka, acks=all' : 'spooling (Kafka unreachable), fsync per group commit', ...(await load(child)) }
  } finally {
    await stopBridge(child)
  }
  if (mode === 'drain') {
    const backlog = events + 200
    const started = process.hrtime.bigint()
    const drainer = startBridge(writeConfig(brokers))
    try {
      for (;;) {
        const state = await readyz()
        if (state?.delivering === 'kafka' && state.spool?.entries === 0) break
        await new Promise((r) => setTimeout(r, 50))
      }
      const seconds = Number(process.hrtime.bigint() - started) / 1e9
      result['drain'] = { backlogEvents: backlog, secondsFromRestart: Number(seconds.toFixed(2)), eventsPerSecond: Math.round(backlog / seconds), peakRssMiB: Math.round(rssMiB(drainer.pid!).hwm) }
    } finally {
      await stopBridge(drainer)
    }
  }
  console.log(JSON.stringify(result, null, 2))
  agent.destroy()
}

await run()
