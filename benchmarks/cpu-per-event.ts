// `make bench` (1 of 4): the bridge's own CPU per event. The bridge and the null fastify server (same HTTP settings; it
// parses the JSON and answers 200) each take the same events at a fixed rate, per mode: keep-alive, Connection: close,
// and HTTPS with a new connection per event (DV2000 across the internet). CPU is the process's utime + stime from /proc,
// so the load generator's own limits do not enter it; the bridge's own work is the difference. Medians of --rounds.
// Prints numbers; asserts nothing. Needs `make build` and a running stack (make stack-up).
// Usage: npx tsx benchmarks/cpu-per-event.ts [--rate 500] [--events 5000] [--rounds 3] [--modes keep-alive,close,https]
//   [--key-type ec|rsa] [--linger MS] [--busy-linger MS] [--log-level info] [--processes N] [--profile]
//   --processes: the bridge's http.processes (its CPU is then its whole process tree's).
//   --log-level: the bridge's (default info, the config's default: a line per request); --profile: each mode once
//   more with the bridge under --cpu-prof, printing where its time goes (self time, and inclusive while measured).
import http from 'node:http'
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { type Answer, atFixedRate, headerHelp, median, postEvent } from './common.js'
import { topInclusive, topSelfTime } from './profile.js'
import { cpuMs, makeCertificate, produceCalls, startBridge, startNullServer, stop, waitListening, type Target, type Tls } from './targets.js'

const { values } = parseArgs({
  options: {
    rate: { type: 'string', default: '500' },
    events: { type: 'string', default: '5000' },
    rounds: { type: 'string', default: '3' },
    modes: { type: 'string', default: 'keep-alive,close,https' },
    'key-type': { type: 'string', default: 'ec' },
    linger: { type: 'string' },
    'busy-linger': { type: 'string' },
    'log-level': { type: 'string', default: 'info' },
    processes: { type: 'string', default: '1' },
    profile: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h' },
  },
})
if (values.help) {
  process.stdout.write(headerHelp(import.meta.url))
  process.exit(0)
}
type Mode = 'keep-alive' | 'close' | 'https'
const modes = values.modes.split(',') as Mode[]
for (const mode of modes) if (!['keep-alive', 'close', 'https'].includes(mode)) throw new Error(`--modes: ${mode} is not keep-alive, close or https`)
const rate = Number(values.rate)
const events = Number(values.events)
const rounds = Number(values.rounds)
const dir = mkdtempSync(join(tmpdir(), 'bridge-cpu-'))
const tls = makeCertificate(dir, values['key-type'] === 'rsa' ? 'rsa' : 'ec')
const ca = readFileSync(tls.certFile)
const kafka = {
  ...(values.linger === undefined ? {} : { lingerMs: Number(values.linger) }),
  ...(values['busy-linger'] === undefined ? {} : { busyLingerMs: Number(values['busy-linger']) }),
}

/** How a mode sends event i to a target. */
function sender(mode: Mode, target: Target): (i: number) => Promise<Answer> {
  if (mode === 'keep-alive') {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 32 })
    return (i) => postEvent(target.port, i, { agent, close: false, timeoutMs: 10_000 })
  }
  if (mode === 'close') return (i) => postEvent(target.port, i, { agent: false, close: true, timeoutMs: 10_000 })
  // A new TLS connection per event, no session resumption: what a sender that keeps nothing between events costs.
  return (i) => postEvent(target.port, i, { agent: false, close: true, ca, timeoutMs: 10_000 })
}

/** The target's CPU ms per event over `events` at `rate`, after a warm-up; for a bridge, its records per produce call. */
async function cpuPerEvent(mode: Mode, target: Target): Promise<{ ms: number; failed: number; perCall: number; measuredFrom: number }> {
  const send = sender(mode, target)
  // Long enough for V8 to compile the hot paths: the first rounds ran 30-50 % higher after 300 events. Slowly at
  // first: cold, an HTTPS bridge costs twice its warm CPU, more than one core at 500/s, and sheds (http.maxBusyMs).
  const warm = [...(await atFixedRate(rate / 4, 500, send)), ...(await atFixedRate(rate, 1000, send))]
  const notOk = warm.filter((a) => a.status !== 200)
  // Refused (closed at accept, http.maxBusyMs) is how a saturated machine shows; anything else is a broken target.
  const broken = notOk.find((a) => a.status !== 0 || a.refused !== true)
  if (broken !== undefined || notOk.length === warm.length) throw new Error(`${target.name} (${mode}): ${notOk.length} of ${warm.length} warm-up events not answered 200, e.g. ${JSON.stringify(broken ?? notOk[0])}`)
  if (notOk.length > 0) console.error(`${target.name} (${mode}): ${notOk.length} of ${warm.length} warm-up connections refused (the machine is saturated: CPU per event below counts answered events)`)
  const callsBefore = await produceCalls(target)
  const before = cpuMs(target.process.pid!)
  const measuredFrom = performance.now()
  const answers = await atFixedRate(rate, events, send)
  const used = cpuMs(target.process.pid!) - before
  const answered = answers.filter((a) => a.status === 200).length
  return { ms: used / answered, failed: events - answered, perCall: answered / ((await produceCalls(target)) - callsBefore), measuredFrom }
}

async function startTargets(mode: Mode, flags: string[] = []): Promise<{ bridge: Target; nullServer: Target }> {
  const serverTls: Tls | undefined = mode === 'https' ? tls : undefined
  const bridge = startBridge({ dir, port: 18080, tls: serverTls, kafka, http: { processes: Number(values.processes) }, flags, logLevel: values['log-level'] })
  const nullServer = startNullServer(18081, serverTls)
  try {
    await Promise.all([waitListening(bridge), waitListening(nullServer)])
  } catch (error) {
    // A bridge that never delivers (no stack) must not outlive the benchmark, nor hold its port for the next run.
    await Promise.all([stop(bridge), stop(nullServer)])
    throw error
  }
  return { bridge, nullServer }
}

const results = new Map<Mode, { bridge: number[]; null: number[]; failed: number; perCall: number[] }>()
for (const mode of modes) {
  const { bridge, nullServer } = await startTargets(mode)
  const row = { bridge: [] as number[], null: [] as number[], failed: 0, perCall: [] as number[] }
  try {
    // Interleaved rounds: a machine that slows down slows both alike. The first round of each mode ran 0.1-0.3 ms
    // higher than the rest on a slow machine, warm-up and all: it is run and not counted.
    for (let round = -1; round < rounds; round++) {
      const n = await cpuPerEvent(mode, nullServer)
      const b = await cpuPerEvent(mode, bridge)
      if (round < 0) continue
      row.null.push(n.ms)
      row.bridge.push(b.ms)
      row.perCall.push(b.perCall)
      row.failed += n.failed + b.failed
    }
  } finally {
    await Promise.all([stop(bridge), stop(nullServer)])
  }
  results.set(mode, row)
}

const label: Record<Mode, string> = { 'keep-alive': 'keep-alive', close: 'Connection: close', https: `HTTPS, new connection per event (${tls.keyType === 'ec' ? 'ECDSA P-256' : 'RSA 2048'})` }
const cell = (xs: number[]): string => `${median(xs).toFixed(3)} (${xs.map((x) => x.toFixed(2)).join(', ')})`
console.log(`node ${process.version}; CPU ms per event at ${rate}/s over ${events} events, median of ${rounds} rounds after one not counted (each round's in brackets); kafka.lingerMs ${values.linger ?? 'default'}, busyLingerMs ${values['busy-linger'] ?? 'default'}; log.level ${values['log-level']}; bridge http.processes ${values.processes}`)
console.log(`${'mode'.padEnd(48)}${'bridge'.padStart(26)}${'null fastify'.padStart(26)}${'own work'.padStart(10)}  records/call  failed`)
for (const [mode, row] of results) {
  console.log(`${label[mode].padEnd(48)}${cell(row.bridge).padStart(26)}${cell(row.null).padStart(26)}${(median(row.bridge) - median(row.null)).toFixed(3).padStart(10)}  ${median(row.perCall).toFixed(2).padStart(12)}  ${row.failed}`)
}

if (values.profile) {
  for (const mode of modes) {
    const profileDir = mkdtempSync(join(tmpdir(), 'bridge-profile-'))
    const startedAt = performance.now()
    const { bridge, nullServer } = await startTargets(mode, ['--cpu-prof', '--cpu-prof-dir', profileDir])
    await stop(nullServer)
    let measuredFrom: number
    try {
      measuredFrom = (await cpuPerEvent(mode, bridge)).measuredFrom
    } finally {
      await stop(bridge)
    }
    const file = readdirSync(profileDir).find((f) => f.endsWith('.cpuprofile'))
    if (file === undefined) continue
    console.log(`\nbridge CPU profile, ${label[mode]}, ${rate}/s (${join(profileDir, file)}), self time:`)
    for (const line of topSelfTime(join(profileDir, file), 25)) console.log(`  ${line}`)
    // The profile begins as the process starts, a little after startedAt: start-up and warm-up are left out.
    console.log(`inclusive, share of the busy time while measured (start-up and warm-up left out):`)
    for (const line of topInclusive(join(profileDir, file), 40, measuredFrom - startedAt)) console.log(`  ${line}`)
  }
}
