// `make bench` (3 of 4): more DV2000 events than the bridge can take. The bridge runs on one CPU (taskset -c 1), the
// Go load generator on the other (-c 0), so the overload is the bridge's, not the machine's. First its capacity: the
// highest rate whose p99 is under 100 ms with nothing refused or timed out (every rate tried, --seconds each);
// then --over times that rate for twice as long. Prints, per run, the answered share and their p50 / p99 / max, the
// share refused unanswered (http.maxConnections) and how fast, the share not answered within 10 s, and the bridge's
// peak RSS. Asserts nothing. Needs `make build`, a stack, Go and taskset.
// Usage: npx tsx benchmarks/overload.ts [--scheme http|https] [--rates 400,500,...,1400] [--seconds 5] [--over 1.5]
//   [--max-connections N] [--processes 1]
//   --scheme http: Connection: close in clear (DV2000 on a LAN); https: a TLS handshake per event as well.
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { type Answer, headerHelp, quantile, rssMiB } from './common.js'
import { goLoadGenerator, loadFromGo, makeCertificate, startBridge, stop, waitListening } from './targets.js'

const { values } = parseArgs({
  options: {
    scheme: { type: 'string', default: 'http' },
    rates: { type: 'string', default: '400,500,600,700,800,900,1000,1100,1200,1300,1400' },
    seconds: { type: 'string', default: '5' },
    over: { type: 'string', default: '1.5' },
    'max-connections': { type: 'string' },
    processes: { type: 'string', default: '1' },
    help: { type: 'boolean', short: 'h' },
  },
})
if (values.help) {
  process.stdout.write(headerHelp(import.meta.url))
  process.exit(0)
}
const seconds = Number(values.seconds)
const TIMEOUT_MS = 10_000
/** The capacity: the highest rate whose p99 stays under this (the issue's bound). */
const CAPACITY_P99_MS = 100
const dir = mkdtempSync(join(tmpdir(), 'bridge-overload-'))
const tls = values.scheme === 'https' ? makeCertificate(dir, 'ec') : undefined
const generator = goLoadGenerator()

interface Outcome {
  rate: number
  answered: number
  p50: number
  p99: number
  max: number
  refused: number
  refusedWithinMs: number
  timedOut: number
}

function outcome(rate: number, answers: Answer[]): Outcome {
  const ok = answers.filter((a) => a.status === 200 || a.status === 202).map((a) => a.ms).sort((a, b) => a - b)
  const refused = answers.filter((a) => a.refused === true)
  const share = (n: number): number => (100 * n) / answers.length
  return {
    rate,
    answered: share(ok.length),
    p50: quantile(ok, 0.5),
    p99: quantile(ok, 0.99),
    max: ok.at(-1) ?? NaN,
    refused: share(refused.length),
    refusedWithinMs: refused.length === 0 ? 0 : Math.max(...refused.map((a) => a.ms)),
    timedOut: share(answers.filter((a) => a.timedOut === true).length),
  }
}

const print = (label: string, o: Outcome): void =>
  console.log(
    `${label.padEnd(22)}${String(o.rate).padStart(6)}/s  answered ${o.answered.toFixed(1).padStart(5)} % (p50 ${o.p50.toFixed(1)}, p99 ${o.p99.toFixed(1)}, max ${o.max.toFixed(0)} ms)  refused ${o.refused.toFixed(1)} %${o.refused > 0 ? ` within ${Math.ceil(o.refusedWithinMs)} ms` : ''}  timed out ${o.timedOut.toFixed(1)} %`,
  )

const http = { processes: Number(values.processes), ...(values['max-connections'] === undefined ? {} : { maxConnections: Number(values['max-connections']) }) }
const bridge = startBridge({ dir, port: 18082, tls, http, cpus: '1' })
const load = (rate: number, count: number): Promise<Answer[]> => loadFromGo(generator, bridge, rate, count, { timeoutMs: TIMEOUT_MS, cpus: '0' })
try {
  await waitListening(bridge)
  await load(300, 1500)
  console.log(`node ${process.version}; ${values.scheme === 'https' ? 'HTTPS (ECDSA P-256)' : 'HTTP'}, a new connection per event; bridge on CPU 1 (http.processes ${http.processes}, maxConnections ${http.maxConnections ?? 'default'}), load on CPU 0`)
  // Every rate is tried: on a shared machine one noisy step must not end the search.
  let capacity: number | undefined
  for (const rate of values.rates.split(',').map(Number)) {
    const o = outcome(rate, await load(rate, rate * seconds))
    print('capacity search', o)
    if (o.p99 < CAPACITY_P99_MS && o.refused === 0 && o.timedOut === 0) capacity = rate
  }
  if (capacity === undefined) throw new Error(`no rate was answered with p99 under ${CAPACITY_P99_MS} ms: try lower --rates`)
  const rate = Math.round(capacity * Number(values.over))
  print(`${values.over} x capacity ${capacity}`, outcome(rate, await load(rate, rate * seconds * 2)))
  console.log(`bridge peak RSS ${rssMiB(bridge.process.pid!).hwm.toFixed(0)} MiB`)
} finally {
  await stop(bridge)
}
