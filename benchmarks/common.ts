// What the benchmark scripts share: the DV2000 event they post and how, percentiles, and a process's memory from /proc.
import type { ChildProcess } from 'node:child_process'
import { readFileSync } from 'node:fs'
import http from 'node:http'
import https from 'node:https'
import { createSecureContext, type SecureContext } from 'node:tls'

/** The DV2000 document's room update, with request i's guest id and one of 400 rooms (400 keys). */
export const body = (i: number): string =>
  JSON.stringify({
    category: 3,
    date: '2023/09/13',
    event: 12,
    message: { actor: 'Visitant', event: 12, firstname: 'Carmella', guestid: String(15478364 + i), lastname: 'Galvano', maidstatus: '0', mailbox: '3101', room: `100-${i % 400}`, source: 'testapp', timestamp: '2023-09-13T08:07:46-07:00', vip: '0' },
    service_id: 1064,
    service_name: 'Visitant',
    time: '08:07:46',
    timestamp: '2023-09-13T08:07:46-07:00',
  })

export const quantile = (sorted: readonly number[], q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN

/** The middle of the rounds' values (the upper middle of an even count). */
export const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!

/** SIGTERM, and its exit; at once for a process already ended (a bridge that crashed is not waited for forever). */
export async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  const exited = new Promise((resolve) => child.once('exit', resolve))
  child.kill('SIGTERM')
  await exited
}

/** Resident memory now and its peak (VmHWM), MiB. */
export function rssMiB(pid: number): { rss: number; hwm: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  const kb = (key: string): number => Number(/\d+/.exec(status.split('\n').find((l) => l.startsWith(key)) ?? '0')![0])
  return { rss: kb('VmRSS:') / 1024, hwm: kb('VmHWM:') / 1024 }
}

/**
 * POSTs event i to the `bench` DV2000 source on 127.0.0.1:port through `agent` (false: a connection of its own);
 * `close` sends Connection: close, as DV2000 does. Resolves with the status and the milliseconds to the answer's end.
 */
export function post(port: number, i: number, agent: http.Agent | false, close: boolean): Promise<{ status: number; ms: number }> {
  return postEvent(port, i, { agent, close })
}

export interface PostOptions {
  agent: http.Agent | https.Agent | false
  close: boolean
  /** HTTPS, trusting this certificate; undefined: plain HTTP. */
  ca?: Buffer | undefined
  /** Gives up after this long (status 0, timedOut), as a sender would. */
  timeoutMs?: number
}

export interface Answer {
  status: number
  ms: number
  timedOut?: boolean
  /** The connection was closed or reset before an answer (an overloaded bridge refusing it): `ms` is when. */
  refused?: boolean
}

const contexts = new WeakMap<Buffer, SecureContext>()

/**
 * One TLS context per CA for all requests: given `ca` itself, node builds a context (and parses the certificate) per
 * connection, which cost the load generator 2.4 ms of CPU per event here and capped it near 400 HTTPS events/s.
 */
function trusting(ca: Buffer): SecureContext {
  let context = contexts.get(ca)
  if (context === undefined) contexts.set(ca, (context = createSecureContext({ ca })))
  return context
}

export function postEvent(port: number, i: number, options: PostOptions): Promise<Answer> {
  const payload = body(i)
  const started = process.hrtime.bigint()
  const request = options.ca === undefined ? http.request : https.request
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        method: 'POST',
        path: '/v1/dv2000/bench?token=bench-secret-1',
        agent: options.agent,
        ...(options.ca === undefined ? {} : { secureContext: trusting(options.ca) }),
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload), 'user-agent': 'DuVoice/8.0.20', ...(options.close ? { connection: 'close' } : {}) },
      },
      (res) => {
        res.resume()
        res.on('end', () => resolve({ status: res.statusCode ?? 0, ms: Number(process.hrtime.bigint() - started) / 1e6 }))
      },
    )
    if (options.timeoutMs !== undefined) {
      req.setTimeout(options.timeoutMs, () => {
        req.destroy()
        resolve({ status: 0, ms: options.timeoutMs!, timedOut: true })
      })
    }
    req.on('error', (error: NodeJS.ErrnoException) => {
      const refused = error.code === 'ECONNRESET' || error.code === 'EPIPE' || error.code === 'ECONNREFUSED'
      if (refused) resolve({ status: 0, ms: Number(process.hrtime.bigint() - started) / 1e6, refused })
      else reject(error)
    })
    req.end(payload)
  })
}

/** Open loop: request i leaves at start + i/rate whatever the answers do. Resolves with every answer (failures: status 0). */
export async function atFixedRate(rate: number, count: number, send: (i: number) => Promise<Answer>): Promise<Answer[]> {
  const answers: Promise<Answer>[] = []
  const start = performance.now()
  for (let i = 0; i < count; i++) {
    const wait = start + (i * 1000) / rate - performance.now()
    if (wait > 1) await new Promise((r) => setTimeout(r, wait))
    answers.push(send(i).catch(() => ({ status: 0, ms: NaN })))
  }
  return Promise.all(answers)
}

/** A script's --help: the comment lines it opens with, without their markers. */
export function headerHelp(scriptUrl: string): string {
  const lines = readFileSync(new URL(scriptUrl), 'utf8').split('\n')
  const header = lines.slice(0, lines.findIndex((l) => !l.startsWith('//')))
  return header.map((l) => l.replace(/^\/\/ ?/, '')).join('\n') + '\n'
}
