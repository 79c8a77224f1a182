// What the benchmark scripts share: the DV2000 event they post, percentiles, and a process's memory from /proc.
import { readFileSync } from 'node:fs'

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
