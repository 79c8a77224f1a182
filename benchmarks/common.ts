// What the benchmark scripts share: the DV2000 event they post and how, percentiles, and a process's memory from /proc.
import { readFileSync } from 'node:fs'
import http from 'node:http'

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
  const payload = body(i)
  const started = process.hrtime.bigint()
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        method: 'POST',
        path: '/v1/dv2000/bench?token=bench-secret-1',
        agent,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload), 'user-agent': 'DuVoice/8.0.20', ...(close ? { connection: 'close' } : {}) },
      },
      (res) => {
        res.resume()
        res.on('end', () => resolve({ status: res.statusCode ?? 0, ms: Number(process.hrtime.bigint() - started) / 1e6 }))
      },
    )
    req.on('error', reject)
    req.end(payload)
  })
}
