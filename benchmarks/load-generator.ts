// One process of a benchmark's load: HTTPS, a new connection per event, at a fixed rate, answers as JSON on stdout.
// Several run side by side, so that one process's TLS handshakes do not cap the load. Usage (by https-sweep.ts):
// node --import tsx benchmarks/load-generator.ts PORT CA_FILE RATE COUNT FIRST_INDEX TIMEOUT_MS
import { readFileSync } from 'node:fs'
import { atFixedRate, postEvent } from './common.js'

const [port, caFile, rate, count, first, timeoutMs] = process.argv.slice(2)
const ca = readFileSync(caFile!)
const answers = await atFixedRate(Number(rate), Number(count), (i) => postEvent(Number(port), Number(first) + i, { agent: false, close: true, ca, timeoutMs: Number(timeoutMs) }))
process.stdout.write(JSON.stringify(answers))
