// `make bench` (2 of 4): DV2000's real traffic, HTTPS with a new connection per event, at fixed rates. Per rate: p50, p99
// and the share of requests not answered within 10 s (a sender's patience), for the bridge and for the null fastify
// server with the same certificate; and Kafka's own producer (ProducerPerformance from the stack's jars, acks=all,
// linger 0) at the same rate, the floor for the tail. Prints numbers; asserts nothing. Needs `make build` and a stack.
// Usage: npx tsx benchmarks/https-sweep.ts [--rates 200,400,600,800,1000] [--seconds 5] [--rounds 3] [--key-type ec|rsa]
//   [--targets bridge,null,kafka] [--generators 1] [--generator go|node] [--max-connections N] [--processes N]
//   --generator: go (benchmarks/loadgen, built into .cache/; 1.0 ms of CPU per HTTPS event here) or node (1.8 ms).
//   --generators: load-generating processes side by side, for a machine with cores to spare (here two made it worse).
import { execFile, execFileSync } from 'node:child_process'
import { mkdtempSync, readdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { Kafka, logLevel } from 'kafkajs'
import { type Answer, headerHelp, median, quantile } from './common.js'
import { BROKERS, goLoadGenerator, loadFromGo, makeCertificate, startBridge, startNullServer, stop, waitListening, type Target } from './targets.js'

const { values } = parseArgs({
  options: {
    rates: { type: 'string', default: '200,400,600,800,1000' },
    seconds: { type: 'string', default: '5' },
    rounds: { type: 'string', default: '3' },
    'key-type': { type: 'string', default: 'ec' },
    targets: { type: 'string', default: 'bridge,null,kafka' },
    generators: { type: 'string', default: '1' },
    'max-connections': { type: 'string' },
    processes: { type: 'string', default: '1' },
    generator: { type: 'string', default: 'go' },
    help: { type: 'boolean', short: 'h' },
  },
})
if (values.help) {
  process.stdout.write(headerHelp(import.meta.url))
  process.exit(0)
}
const rates = values.rates.split(',').map(Number)
const seconds = Number(values.seconds)
const rounds = Number(values.rounds)
const targets = new Set(values.targets.split(','))
const dir = mkdtempSync(join(tmpdir(), 'bridge-sweep-'))
const tls = makeCertificate(dir, values['key-type'] === 'rsa' ? 'rsa' : 'ec')
const TIMEOUT_MS = 10_000
const loadGenerator = values.generator === 'node' ? 'node' : goLoadGenerator()

interface Row {
  p50: number
  p99: number
  /** Shares of the requests: not answered within TIMEOUT_MS, and closed unanswered at once (http.maxConnections). */
  timedOut: number
  refused: number
  /** The slowest refusal, ms. */
  refusedMaxMs: number
  other: number
}

function summary(answers: Answer[]): Row {
  const ok = answers.filter((a) => a.status === 200 || a.status === 202).map((a) => a.ms).sort((a, b) => a - b)
  const timedOut = answers.filter((a) => a.timedOut === true).length
  const refused = answers.filter((a) => a.refused === true)
  return {
    p50: quantile(ok, 0.5),
    p99: quantile(ok, 0.99),
    timedOut: timedOut / answers.length,
    refused: refused.length / answers.length,
    refusedMaxMs: Math.max(0, ...refused.map((a) => a.ms)),
    other: answers.length - ok.length - timedOut - refused.length,
  }
}

/** One rate's rounds as one row: median p50 and p99, the largest shares and the slowest refusal, all errors. */
function acrossRounds(rows: Row[]): Row {
  return {
    p50: median(rows.map((r) => r.p50)),
    p99: median(rows.map((r) => r.p99)),
    timedOut: Math.max(...rows.map((r) => r.timedOut)),
    refused: Math.max(...rows.map((r) => r.refused)),
    refusedMaxMs: Math.max(...rows.map((r) => r.refusedMaxMs)),
    other: rows.reduce((n, r) => n + r.other, 0),
  }
}

/** `count` events at `rate`, shared among the generator processes, each at its share of the rate. */
async function load(target: Target, rate: number, count: number): Promise<Answer[]> {
  const generators = Number(values.generators)
  const runs = Array.from({ length: generators }, (_, g) => {
    if (loadGenerator !== 'node') return loadFromGo(loadGenerator, target, rate / generators, Math.floor(count / generators), { first: g * count, timeoutMs: TIMEOUT_MS })
    const args = ['--import', 'tsx', 'benchmarks/load-generator.ts', String(target.port), tls.certFile, String(rate / generators), String(Math.floor(count / generators)), String(g * count), String(TIMEOUT_MS)]
    return new Promise<Answer[]>((resolve, reject) => {
      execFile(process.execPath, args, { maxBuffer: 64 << 20 }, (error, stdout) => (error === null ? resolve(JSON.parse(stdout) as Answer[]) : reject(error)))
    })
  })
  return (await Promise.all(runs)).flat()
}

async function sweep(target: Target): Promise<Map<number, Row>> {
  // Warm: the first rounds cold ran 30-50 % higher, and 300 events left the bridge's first rate 10x slower at p99.
  await load(target, 250, 1500)
  const rows = new Map<number, Row>()
  for (const rate of rates) rows.set(rate, summary(await load(target, rate, rate * seconds)))
  return rows
}

/** Kafka's own Java producer at `rate` records/s, acks=all, linger 0, records the size of the bridge's. */
async function kafkaFloor(): Promise<Map<number, Row>> {
  const libs = readdirSync('.stack/kafka').map((version) => join('.stack/kafka', version, 'libs')).at(-1)
  if (libs === undefined) throw new Error('no Kafka jars under .stack/kafka: run make stack-up')
  const topic = `bench-floor-${Date.now()}`
  const admin = new Kafka({ brokers: [BROKERS], logLevel: logLevel.NOTHING }).admin()
  await admin.connect()
  await admin.createTopics({ topics: [{ topic, numPartitions: 3 }], waitForLeaders: true })
  await admin.disconnect()
  const rows = new Map<number, Row>()
  for (const rate of rates) {
    const out = execFileSync(
      process.env['JAVA'] ?? 'java',
      ['-cp', `${libs}/*`, 'org.apache.kafka.tools.ProducerPerformance', '--topic', topic, '--num-records', String(rate * seconds), '--record-size', '700', '--throughput', String(rate), '--producer-props', `bootstrap.servers=${BROKERS}`, 'acks=all', 'linger.ms=0'],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] },
    )
    // "... 12.3 ms avg latency, 80.0 ms max latency, 2 ms 50th, 9 ms 95th, 15 ms 99th, 20 ms 99.9th."
    const last = out.trim().split('\n').at(-1) ?? ''
    const number = (label: string): number => Number(new RegExp(`([\\d.]+) ms ${label}`).exec(last)?.[1] ?? NaN)
    rows.set(rate, { p50: number('50th'), p99: number('99th'), timedOut: NaN, refused: 0, refusedMaxMs: 0, other: 0 })
  }
  return rows
}

// Started once and kept through the rounds, which interleave them: a machine that slows down for a while slows all alike.
const started: [string, Target][] = []
if (targets.has('bridge')) {
  started.push(['bridge', startBridge({ dir, port: 18080, tls, http: { processes: Number(values.processes), ...(values['max-connections'] === undefined ? {} : { maxConnections: Number(values['max-connections']) }) } })])
}
if (targets.has('null')) started.push(['null fastify', startNullServer(18081, tls)])
const byTarget = new Map<string, Map<number, Row>[]>()
const measured = (name: string, rows: Map<number, Row>): void => void byTarget.set(name, [...(byTarget.get(name) ?? []), rows])
try {
  await Promise.all(started.map(([, target]) => waitListening(target)))
  for (let round = 0; round < rounds; round++) {
    for (const [name, target] of started) measured(name, await sweep(target))
    if (targets.has('kafka')) measured('Kafka ProducerPerformance', await kafkaFloor())
  }
} finally {
  await Promise.all(started.map(([, target]) => stop(target)))
}
const results = [...byTarget].map(([name, perRound]) => [name, new Map(rates.map((rate) => [rate, acrossRounds(perRound.map((rows) => rows.get(rate)!))]))] as const)

const percent = (share: number): string => `${(100 * share).toFixed(1)} %`
console.log(`node ${process.version}; HTTPS (${tls.keyType === 'ec' ? 'ECDSA P-256' : 'RSA 2048'}), a new connection per event, ${seconds} s per rate, ${values.generators} ${values.generator} load processes, bridge http.processes ${values.processes}; p50 / p99 ms (medians of ${rounds} rounds), the largest share of a round not answered in ${TIMEOUT_MS / 1000} s`)
console.log(`${'rate/s'.padEnd(8)}${results.map(([name]) => name.padStart(34)).join('')}`)
for (const rate of rates) {
  const cells = results.map(([, rows]) => {
    const r = rows.get(rate)!
    const refused = r.refused === 0 ? '' : `; refused ${percent(r.refused)} in <${Math.ceil(r.refusedMaxMs)} ms`
    return `${r.p50.toFixed(1)} / ${r.p99.toFixed(1)}; ${Number.isNaN(r.timedOut) ? '-' : percent(r.timedOut)}${refused}${r.other > 0 ? ` (+${r.other} errors)` : ''}`.padStart(34)
  })
  console.log(`${String(rate).padEnd(8)}${cells.join('')}`)
}
const bridgeRows = results.find(([name]) => name === 'bridge')?.[1]
const floorRows = results.find(([name]) => name === 'Kafka ProducerPerformance')?.[1]
if (bridgeRows !== undefined && floorRows !== undefined) {
  // Issue 21's goal: at every rate the bridge takes, its p99 within 3 times Kafka's own producer's.
  console.log(`bridge p99 / Kafka's producer p99: ${rates.map((rate) => `${rate}/s ${(bridgeRows.get(rate)!.p99 / floorRows.get(rate)!.p99).toFixed(1)}x`).join(', ')}`)
}
