// A steady stream of DV2000 events through a bridge, and the checks every failure test makes on what reached Kafka.
import { request } from 'node:http'
import { get as httpsGet } from 'node:https'
import { expect } from 'vitest'
import { consume, type ConsumedRecord } from './kafka.js'

export const STREAM_SECRET = 'outage-secret-1'

/** A hospitality event keyed by `room`, carrying its sequence number in guestid (and `padding` characters more). */
export function event(room: string, seq: number, padding = 0): string {
  return JSON.stringify({
    category: 3,
    date: '2023/09/13',
    event: 12,
    message: { room, guestid: String(seq), vip: '0', ...(padding > 0 ? { lastname: 'x'.repeat(padding) } : {}) },
    service_id: 1064,
    service_name: 'Visitant',
    time: '08:07:46',
    timestamp: '2023-09-13T08:07:46-07:00',
  })
}

export interface Sent {
  status: number
  eventId?: string
  /** Why no answer came (status 0). */
  error?: string
}

/** One event on a connection of its own, as DV2000 sends it; status 0 with the error when the connection failed. */
export function postOnNewConnection(port: number, room: string, seq: number, secret = STREAM_SECRET): Promise<Sent> {
  return new Promise((resolve) => {
    const body = event(room, seq)
    const req = request(
      { host: '127.0.0.1', port, method: 'POST', path: `/v1/dv2000/front-desk?token=${secret}`, agent: false, headers: { 'content-type': 'application/json', connection: 'close', 'content-length': Buffer.byteLength(body) } },
      (res) => {
        let text = ''
        res.setEncoding('utf8')
        res.on('data', (chunk: string) => (text += chunk))
        res.on('end', () => resolve({ status: res.statusCode ?? 0, eventId: (JSON.parse(text) as { event_id?: string }).event_id }))
      },
    )
    req.on('error', (error) => resolve({ status: 0, error: `${error.message} (${(error as NodeJS.ErrnoException).code ?? ''})` }))
    req.end(body)
  })
}

export async function send(url: string, room: string, seq: number, padding = 0): Promise<Sent> {
  try {
    const response = await fetch(`${url}/v1/dv2000/front-desk?token=${STREAM_SECRET}`, { method: 'POST', body: event(room, seq, padding), headers: { 'content-type': 'application/json' } })
    const body = (await response.json()) as { event_id?: string }
    return { status: response.status, eventId: body.event_id }
  } catch (error) {
    const cause = (error as { cause?: { code?: string; message?: string } }).cause
    return { status: 0, error: `${(error as Error).message}: ${cause?.code ?? cause?.message ?? ''}` }
  }
}

/** A GET's body; over HTTPS a test's throw-away certificate is not checked (fetch cannot be told so). */
function getText(url: string): Promise<string> {
  if (!url.startsWith('https:')) return fetch(url).then((r) => r.text())
  return new Promise((resolve, reject) => {
    httpsGet(url, { rejectUnauthorized: false }, (response) => {
      let body = ''
      response.setEncoding('utf8')
      response.on('data', (chunk: string) => (body += chunk))
      response.on('end', () => resolve(body))
    }).on('error', reject)
  })
}

/** The value of one metric line (name with its labels, as printed), or undefined when absent. */
export async function metric(url: string, name: string): Promise<number | undefined> {
  const text = await getText(`${url}/metrics`)
  const line = text.split('\n').find((l) => l.startsWith(`${name} `))
  return line === undefined ? undefined : Number(line.slice(name.length + 1))
}

/** Polls `check` until it holds; fails naming `what` after a bound generous enough for a cold, loaded machine. */
export async function waitFor(check: () => boolean, what: string, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

export const count = (sent: readonly Sent[], status: number): number => sent.filter((x) => x.status === status).length

export const acknowledged = (sent: Sent[]): string[] => sent.filter((s) => s.status === 200 || s.status === 202).map((s) => s.eventId!)

export async function consumeIds(prefix: string, ids: readonly string[], timeoutMs = 90_000): Promise<ConsumedRecord[]> {
  // Incremental: called per message, a check over all records so far would be quadratic on large streams.
  const missing = new Set(ids)
  let checked = 0
  return consume(
    `${prefix}dv2000.hospitality`,
    (records) => {
      for (; checked < records.length; checked++) missing.delete(records[checked]!.headers['event_id']!)
      return missing.size === 0
    },
    timeoutMs,
  )
}

export function expectAllPresent(records: ConsumedRecord[], ids: readonly string[]): void {
  const seen = new Set(records.map((r) => r.headers['event_id']))
  const missing = ids.filter((id) => !seen.has(id))
  expect(missing, `acknowledged but not on Kafka: ${missing.length} of ${ids.length}`).toEqual([])
}

/** Per room, the first occurrence of each sequence number must come in increasing order (duplicates allowed). */
export function expectOrderPerKey(records: ConsumedRecord[]): void {
  const byKey = new Map<string, number[]>()
  const sorted = [...records].sort((a, b) => a.partition - b.partition || Number(BigInt(a.offset) - BigInt(b.offset)))
  for (const r of sorted) {
    const seq = Number((r.value['message'] as { guestid: string }).guestid)
    const list = byKey.get(r.key!) ?? []
    if (!list.includes(seq)) list.push(seq)
    byKey.set(r.key!, list)
  }
  for (const [key, seqs] of byKey) expect(seqs, `order for key ${key}`).toEqual([...seqs].sort((a, b) => a - b))
}

/** Every event acknowledged (200 or 202) is on the prefix's hospitality topic, and per room in order: what every failure test ends with. */
export async function expectDeliveredInOrder(prefix: string, sent: Sent[], timeoutMs?: number): Promise<void> {
  const ids = acknowledged(sent)
  const records = await consumeIds(prefix, ids, timeoutMs)
  expectAllPresent(records, ids)
  expectOrderPerKey(records)
}
