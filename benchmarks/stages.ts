// What each of the bridge's own steps costs one DV2000 event, in µs, in this process (no sockets, no Kafka): steps
// compared with each other without the machine's noise. Hot loops: a floor; in a loaded server the same code costs
// several times this (cold caches; `cpu-per-event --profile` shows the shares). Prints numbers; asserts nothing.
// Usage: npx tsx benchmarks/stages.ts [--iterations 100000]
import { randomUUID } from 'node:crypto'
import { Writable } from 'node:stream'
import { parseArgs } from 'node:util'
import { encodeBody } from '../src/avro/encoder.js'
import { loadSchemas } from '../src/avro/schemas.js'
import { validateConfig } from '../src/config/load.js'
import { encodeRecord, kafkajsEncodeRecord } from '../src/delivery/kafka/record-encoder.js'
import { createSourceGuard } from '../src/http/source-guard.js'
import { createLogger } from '../src/observability/logger.js'
import { redactUrl } from '../src/observability/redact.js'
import { builtInSources } from '../src/sources/index.js'
import { body, headerHelp } from './common.js'

const { values } = parseArgs({ options: { iterations: { type: 'string', default: '100000' }, help: { type: 'boolean', short: 'h' } } })
if (values.help) {
  process.stdout.write(headerHelp(import.meta.url))
  process.exit(0)
}
const iterations = Number(values.iterations)

const secret = 'a-long-secret-of-the-bench-source'
const config = validateConfig({ sources: [{ id: 'bench', type: 'dv2000', secrets: [secret] }] })
const source = config.sources[0]!
const component = builtInSources.componentFor(source)!
const schemas = loadSchemas()
const packets = Array.from({ length: 400 }, (_, i) => Buffer.from(body(i)))
const context = { source, receivedAt: new Date(), userAgent: 'DV2000', newId: randomUUID, maxRecords: config.http.maxRecordsPerRequest }
const ingest = (i: number) => component.ingest(packets[i % packets.length]!, context)
const record = ingest(0)
if (record.kind !== 'records') throw new Error('the bench event was filtered')
const first = record.records[0]!
const schema = schemas.get(first.schema)!
const value = encodeBody(schema.type, first.value)
const headers: Record<string, string> = { ...first.headers }
const guard = createSourceGuard(config.sources)
const url = `/v1/dv2000/bench?token=${secret}`
// The access line as the bridge writes it (access-log.ts), into a stream that drops it: pino's serialising is the cost.
const nowhere = new Writable({ write: (_chunk, _encoding, done) => done() })
const log = createLogger('info', nowhere).child({ reqId: 'req-1' })
const request = { method: 'POST', url, ip: '127.0.0.1', headers: { 'user-agent': 'DV2000', host: '127.0.0.1:8080' } }

const stages: [string, (i: number) => unknown][] = [
  ['admission (allow-list, secret sha256, rate limit)', () => guard.admit('dv2000', 'bench', { ip: '127.0.0.1', authorization: undefined, token: secret })],
  ['event id (randomUUID)', () => randomUUID()],
  ['DV2000 parse and normalise into a record', ingest],
  ['Avro encode', () => encodeBody(schema.type, first.value)],
  ['Kafka record, this bridge (record-encoder.ts)', (i) => encodeRecord({ key: first.key, value, headers, offsetDelta: i % 32, timestampDelta: 0 })],
  ['Kafka record, kafkajs 2.2.4 (replaced)', (i) => kafkajsEncodeRecord({ key: first.key, value, headers, offsetDelta: i % 32, timestampDelta: 0 })],
  ['URL redaction', () => redactUrl(url)],
  ['access line (pino, redaction paths, serializer)', () => log.info({ req: request, res: { statusCode: 200 }, responseTime: 1.2, event_id: 'e' }, 'request completed')],
]

/** µs per call: best of three runs of `iterations` calls, after one run not counted (the JIT). */
function microseconds(run: (i: number) => unknown): number {
  let best = Infinity
  for (let round = -1; round < 3; round++) {
    const start = performance.now()
    for (let i = 0; i < iterations; i++) run(i)
    const us = ((performance.now() - start) * 1000) / iterations
    if (round >= 0) best = Math.min(best, us)
  }
  return best
}

console.log(`node ${process.version}; µs per DV2000 event, best of 3 runs of ${iterations}`)
for (const [name, run] of stages) console.log(`${name.padEnd(52)}${microseconds(run).toFixed(2).padStart(8)}`)
