// `make bench-batch`: what one maximum-size Servio batch costs everybody else. A bridge of its own (dist/) takes a steady
// stream of DV2000 events (Connection: close, as DV2000 sends) while one Servio batch of --records ids is posted, then one
// 1 MiB batch over the cap (413). Prints per batch: its answer and time, the event loop's longest delay while it ran
// (the bridge's own bridge_process_nodejs_eventloop_lag_max_seconds), the longest DV2000 answer meanwhile, and the
// bridge's peak RSS. Asserts nothing. Needs `make build` and a running stack (make stack-up).
// Usage: npx tsx benchmarks/big-batch.ts [--records 10000] [--cap N] [--rate 50]
//   --records: ids in the batch (default: the cap); --cap: http.maxRecordsPerRequest (default: the config's default).
import { spawn, type ChildProcess } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { validateConfig } from '../src/config/load.js'
import { headerHelp, post, rssMiB } from './common.js'

const { values } = parseArgs({
  options: {
    records: { type: 'string' },
    cap: { type: 'string' },
    rate: { type: 'string', default: '50' },
    help: { type: 'boolean', short: 'h' },
  },
})
if (values.help) {
  process.stdout.write(headerHelp(import.meta.url))
  process.exit(0)
}
const cap = values.cap === undefined ? validateConfig({}).http.maxRecordsPerRequest : Number(values.cap)
const records = values.records === undefined ? cap : Number(values.records)
const rate = Number(values.rate)
const PORT = 18090
const dir = mkdtempSync(join(tmpdir(), 'bridge-big-batch-'))

function startBridge(): ChildProcess {
  const config = join(dir, 'bridge.json')
  writeFileSync(
    config,
    JSON.stringify({
      http: { host: '127.0.0.1', port: PORT, maxRecordsPerRequest: cap },
      kafka: { brokers: [process.env['KAFKA_BROKERS'] ?? '127.0.0.1:9092'] },
      schemaRegistry: { url: process.env['SCHEMA_REGISTRY_URL'] ?? 'http://127.0.0.1:8081/apis/ccompat/v7' },
      topicPrefix: `bench-${randomUUID().slice(0, 8)}.`,
      spool: { dir: join(dir, 'spool') },
      log: { level: process.env['BENCH_LOG_LEVEL'] ?? 'warn' },
      sources: [
        { id: 'bench', type: 'dv2000', secrets: ['bench-secret-1'] },
        { id: 'hms', type: 'servio', secrets: ['bench-secret-1'], hotelId: '12' },
      ],
    }),
  )
  const flags = process.env['BENCH_NODE_FLAGS']?.split(' ').filter(Boolean) ?? []
  return spawn(process.execPath, [...flags, 'dist/main.js', 'serve', '--config', config], { stdio: ['ignore', 'inherit', 'inherit'] })
}

async function until(check: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 240; i++) {
    if (await check().catch(() => false)) return
    await new Promise((r) => setTimeout(r, 250))
  }
  throw new Error(`timed out waiting for ${what}`)
}

/** A Servio batch of `n` guest ids, written as Servio writes it (no spaces). */
const servioBatch = (n: number): string => `{"Add":null,"Update":{"Rooms":null,"Clients":null,"Companies":null,"Guests":[${Array.from({ length: n }, (_, i) => 100_000 + i).join(',')}]},"Delete":null}`

async function postServio(body: string): Promise<{ status: number; ms: number }> {
  const started = performance.now()
  const res = await fetch(`http://127.0.0.1:${PORT}/v1/servio/hms?token=bench-secret-1`, { method: 'POST', body, headers: { 'content-type': 'application/json' } })
  await res.arrayBuffer()
  return { status: res.status, ms: performance.now() - started }
}

/** The bridge's longest event-loop delay since the previous scrape (prom-client resets it at each one). */
async function loopMaxMs(): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${PORT}/metrics`)).text()
  const line = text.split('\n').find((l) => l.startsWith('bridge_process_nodejs_eventloop_lag_max_seconds '))
  return Number(line?.split(' ')[1]) * 1000
}

/** Posts `body` while a DV2000 stream runs at `rate`/s from 300 ms before until 300 ms after its answer. */
async function underStream(body: string): Promise<{ status: number; ms: number; loopMaxMs: number; dv2000MaxMs: number; dv2000: number; failed: number }> {
  const answers: { ms: number; status: number }[] = []
  let streaming = true
  let i = 0
  const stream = (async () => {
    const start = performance.now()
    const inFlight: Promise<void>[] = []
    while (streaming) {
      const due = start + (i * 1000) / rate
      const wait = due - performance.now()
      if (wait > 0) await new Promise((r) => setTimeout(r, wait))
      inFlight.push(post(PORT, i++, false, true).then((a) => void answers.push(a), () => void answers.push({ ms: NaN, status: 0 })))
    }
    await Promise.all(inFlight)
  })()
  await new Promise((r) => setTimeout(r, 300))
  await loopMaxMs()
  const batch = await postServio(body)
  const loop = await loopMaxMs()
  await new Promise((r) => setTimeout(r, 300))
  streaming = false
  await stream
  const ok = answers.filter((a) => a.status === 200 || a.status === 202)
  return { ...batch, loopMaxMs: loop, dv2000MaxMs: Math.max(...ok.map((a) => a.ms)), dv2000: answers.length, failed: answers.length - ok.length }
}

const bridge = startBridge()
try {
  await until(async () => ((await (await fetch(`http://127.0.0.1:${PORT}/readyz`)).json()) as { delivering?: string }).delivering === 'kafka', 'the bridge to deliver to Kafka')
  // Schemas registered and topics warm before measuring.
  const warm = [(await post(PORT, 0, false, true)).status, (await postServio(servioBatch(1))).status]
  if (warm.some((status) => status !== 200)) console.log(`warm-up answers: ${warm.join(', ')}`)
  const baseline = rssMiB(bridge.pid!)
  console.log(`node ${process.version}; http.maxRecordsPerRequest ${cap}; DV2000 stream ${rate}/s (Connection: close); RSS before ${baseline.rss.toFixed(0)} MiB`)
  const row = (name: string, r: Awaited<ReturnType<typeof underStream>>, bytes: number): void =>
    console.log(
      `${name}: ${bytes} bytes -> ${r.status} in ${r.ms.toFixed(0)} ms; event loop longest delay ${r.loopMaxMs.toFixed(0)} ms; longest DV2000 answer ${r.dv2000MaxMs.toFixed(0)} ms (${r.dv2000} events, ${r.failed} failed); peak RSS ${rssMiB(bridge.pid!).hwm.toFixed(0)} MiB`,
    )
  const atCap = servioBatch(records)
  row(`batch of ${records} ids`, await underStream(atCap), Buffer.byteLength(atCap))
  // The most ids a 1 MiB body holds: over the cap, refused (413) and kept whole as a dead letter.
  const full = servioBatch(Math.floor((1_048_576 - 100) / 7))
  row(`1 MiB batch of ${Math.floor((1_048_576 - 100) / 7)} ids`, await underStream(full), Buffer.byteLength(full))
} finally {
  const exited = new Promise((resolve) => bridge.once('exit', resolve))
  bridge.kill('SIGTERM')
  await exited
}
