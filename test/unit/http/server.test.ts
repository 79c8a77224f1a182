// The HTTP contract of SPEC §2 at the edge: status codes, refusal before the body, and no secret in any log line.
import { connect } from 'node:net'
import { Writable } from 'node:stream'
import { describe, expect, it } from 'vitest'
import { validateConfig } from '../../../src/config/load.js'
import { BridgeError, ErrorCodes } from '../../../src/errors.js'
import { buildHttp } from '../../../src/http/server.js'
import { createLogger } from '../../../src/observability/logger.js'
import { createMetrics } from '../../../src/observability/metrics.js'
import type { IngestOutcome, IngestRequest, Pipeline } from '../../../src/pipeline.js'

const SECRET = 'unit-secret-123'

function setup(
  pipelineResult: (request: IngestRequest) => Promise<IngestOutcome> = async () => ({ status: 'produced', eventId: 'e-1', records: 1 }),
  http: Record<string, unknown> = {},
) {
  const lines: string[] = []
  const destination = new Writable({
    write(chunk, _encoding, done) {
      lines.push(String(chunk))
      done()
    },
  })
  const config = validateConfig({
    http: { bodyLimitBytes: 1024, ...http },
    sources: [
      { id: 'desk', type: 'dv2000', secrets: [SECRET] },
      { id: 'office-only', type: 'dv2000', secrets: [SECRET], allowCidrs: ['10.1.0.0/16'] },
      { id: 'slow', type: 'dv2000', secrets: [SECRET], rateLimit: { perSecond: 1, burst: 2 } },
      { id: 'hotel', type: 'servio', secrets: [SECRET] },
    ],
  })
  const calls: IngestRequest[] = []
  const pipeline: Pipeline = {
    ingest: async (_source, request) => {
      calls.push(request)
      return pipelineResult(request)
    },
  }
  const metrics = createMetrics({ defaultMetrics: false })
  const app = buildHttp({
    config,
    logger: createLogger('debug', destination),
    metrics,
    pipeline,
    readiness: async () => ({ ready: true, delivering: 'kafka', kafka: 'connected', held: [], spool: { entries: 0, bytes: 0, usedBytes: 0, maxBytes: 1, writable: true } }),
  })
  return { app, calls, lines, metrics }
}

describe('ingest routes', () => {
  it('joins the request log and the pipeline\'s: a plain X-Request-Id (else a new one) on every line, event_id on the closing one', async () => {
    const { app, lines } = setup(async (request) => {
      request.log?.warn({ event_id: 'e-7' }, 'a line the pipeline writes about the event')
      return { status: 'produced', eventId: 'e-7', records: 1 }
    })
    const post = (headers: Record<string, string>) => app.inject({ method: 'POST', url: `/v1/dv2000/desk?token=${SECRET}`, payload: '{}', headers: { 'content-type': 'application/json', ...headers } })
    const answer = await post({ 'x-request-id': 'lb-4711.a' })
    expect(answer.headers['x-request-id']).toBe('lb-4711.a')
    const parsed = lines.map((l) => JSON.parse(l) as Record<string, unknown>)
    expect(parsed.filter((l) => l['reqId'] === 'lb-4711.a').map((l) => l['msg'])).toEqual(['a line the pipeline writes about the event', 'stored', 'request completed'])
    expect(parsed.find((l) => l['msg'] === 'request completed')).toMatchObject({ level: 'info', event_id: 'e-7' })
    // One that could forge a line (or is too long) is replaced by a new id.
    for (const forged of ['x\n{"level":"error"}', 'a'.repeat(200), 'has space']) {
      const replaced = await post({ 'x-request-id': forged })
      expect(replaced.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/)
    }
  })

  it('every answer carries its X-Request-Id, refusals and unknown routes included', async () => {
    const { app } = setup()
    const post = (url: string) => app.inject({ method: 'POST', url, payload: '{}', headers: { 'content-type': 'application/json', 'x-request-id': 'lb-1' } })
    for (const [url, status] of [[`/v1/dv2000/desk?token=${SECRET}`, 200], ['/v1/dv2000/desk?token=wrong', 401], [`/v1/dv2000/nobody?token=${SECRET}`, 404], ['/nowhere', 404]] as const) {
      const answer = await post(url)
      expect([answer.statusCode, answer.headers['x-request-id']]).toEqual([status, 'lb-1'])
    }
  })

  it('maps each refusal to its SPEC status and never calls the pipeline for them', async () => {
    const { app, calls, metrics } = setup()
    const body = '{"category":3}'
    const post = (url: string, headers: Record<string, string> = {}) => app.inject({ method: 'POST', url, payload: body, headers: { 'content-type': 'application/json', ...headers } })

    expect((await post('/v1/dv2000/nobody?token=' + SECRET)).statusCode).toBe(404)
    expect((await post('/v1/servio/desk?token=' + SECRET)).statusCode).toBe(404)
    expect((await post('/v1/other/desk?token=' + SECRET)).statusCode).toBe(404)
    const unauthorised = await post('/v1/dv2000/desk?token=nope')
    expect(unauthorised.statusCode).toBe(401)
    expect(unauthorised.headers['www-authenticate']).toContain('Basic')
    expect(unauthorised.json()).toMatchObject({ error: 'UNAUTHORIZED' })
    expect((await post('/v1/dv2000/office-only?token=' + SECRET)).statusCode).toBe(403)
    expect((await post('/v1/dv2000/office-only?token=' + SECRET, { 'x-forwarded-for': '10.1.2.3' })).statusCode).toBe(403)
    const tooLarge = await app.inject({ method: 'POST', url: '/v1/dv2000/desk?token=' + SECRET, payload: 'x'.repeat(1025), headers: { 'content-type': 'application/json' } })
    expect(tooLarge.statusCode).toBe(413)
    expect(tooLarge.json()).toMatchObject({ error: 'PAYLOAD_TOO_LARGE' })
    expect(calls).toHaveLength(0)

    const first = await post('/v1/dv2000/slow?token=' + SECRET)
    const second = await post('/v1/dv2000/slow?token=' + SECRET)
    const third = await post('/v1/dv2000/slow?token=' + SECRET)
    expect([first.statusCode, second.statusCode, third.statusCode]).toEqual([200, 200, 429])
    expect(Number(third.headers['retry-after'])).toBeGreaterThanOrEqual(1)
    expect(calls).toHaveLength(2)
    const text = await metrics.registry.metrics()
    expect(text).toContain('bridge_requests_total{source="(unknown)",outcome="unknown_source"} 2')
    expect(text).not.toContain('source="nobody"')
    expect(text).toContain('bridge_requests_total{source="slow",outcome="rate_limited"} 1')
  })

  it('hands the exact bytes, content type and address to the pipeline, whatever the content type', async () => {
    const { app, calls } = setup()
    const raw = Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x00, 0x7d])
    const answer = await app.inject({ method: 'POST', url: '/v1/dv2000/desk', payload: raw, headers: { 'content-type': 'text/plain; charset=latin1', authorization: `Bearer ${SECRET}` } })
    expect(answer.statusCode).toBe(200)
    expect(answer.json()).toEqual({ status: 'produced', event_id: 'e-1', records: 1 })
    expect(Buffer.compare(calls[0]!.body, raw)).toBe(0)
    expect(calls[0]!.contentType).toBe('text/plain; charset=latin1')
    expect(calls[0]!.remoteAddress).toBe('127.0.0.1')

    const empty = await app.inject({ method: 'POST', url: `/v1/dv2000/desk?token=${SECRET}` })
    expect(empty.statusCode).toBe(200)
    expect(calls[1]!.body.length).toBe(0)
  })

  it('answers 400 (or 413 over the record cap) with the dead-letter event id, 200 filtered, and 503 when nothing could store the event', async () => {
    const outcomes: IngestOutcome[] = [
      { status: 'rejected', eventId: 'dl-1', reason: 'the body is not valid JSON', stored: 'delivered' },
      { status: 'too_many', eventId: 'dl-2', reason: 'the batch holds 10001 changes, more than http.maxRecordsPerRequest (10000) allows in one request', stored: 'spooled' },
      { status: 'spooled', eventId: 's-1', records: 1 },
      { status: 'filtered', eventId: 'f-1', reason: 'category 2 is not in this source' },
    ]
    const { app, metrics } = setup(async () => {
      const next = outcomes.shift()
      if (next === undefined) throw new BridgeError(ErrorCodes.KAFKA_UNAVAILABLE, 'Kafka is unavailable', { retriable: true })
      return next
    })
    const post = () => app.inject({ method: 'POST', url: `/v1/dv2000/desk?token=${SECRET}`, payload: '{}' })
    const rejected = await post()
    expect(rejected.statusCode).toBe(400)
    expect(rejected.json()).toEqual({ status: 'rejected', event_id: 'dl-1', error: 'BAD_INPUT', reason: 'the body is not valid JSON', dead_letter: 'delivered' })
    const tooMany = await post()
    expect(tooMany.statusCode).toBe(413)
    expect(tooMany.json()).toMatchObject({ status: 'rejected', event_id: 'dl-2', error: 'TOO_MANY_RECORDS', dead_letter: 'spooled' })
    const spooled = await post()
    expect(spooled.statusCode).toBe(202)
    expect(spooled.json()).toEqual({ status: 'spooled', event_id: 's-1', records: 1 })
    const filtered = await post()
    expect(filtered.statusCode).toBe(200)
    expect(filtered.json()).toMatchObject({ status: 'filtered', event_id: 'f-1' })
    const unavailable = await post()
    expect(unavailable.statusCode).toBe(503)
    expect(unavailable.json()).toMatchObject({ error: 'KAFKA_UNAVAILABLE' })
    const text = await metrics.registry.metrics()
    expect(text).toContain('bridge_requests_total{source="desk",outcome="rejected"} 1')
    expect(text).toContain('bridge_requests_total{source="desk",outcome="filtered"} 1')
    expect(text).toContain('bridge_requests_total{source="desk",outcome="too_large"} 1')
    expect(text).toContain('bridge_requests_total{source="desk",outcome="unavailable"} 1')
  })

  it('never writes a secret to the log, whichever way it was sent', async () => {
    const { app, lines } = setup()
    await app.inject({ method: 'POST', url: `/v1/dv2000/desk?token=${SECRET}`, payload: '{}' })
    await app.inject({ method: 'POST', url: '/v1/dv2000/desk?token=wrong-guess-999', payload: '{}' })
    await app.inject({ method: 'POST', url: '/v1/dv2000/desk', payload: '{}', headers: { authorization: `Bearer ${SECRET}` } })
    await app.inject({ method: 'POST', url: '/v1/dv2000/desk', payload: '{}', headers: { authorization: `Basic ${Buffer.from(`u:${SECRET}`).toString('base64')}` } })
    const log = lines.join('')
    expect(lines.length).toBeGreaterThanOrEqual(8)
    expect(log).toContain('token=[redacted]')
    expect(log).not.toContain(SECRET)
    expect(log).not.toContain('wrong-guess-999')
    expect(log).not.toContain(Buffer.from(`u:${SECRET}`).toString('base64'))
  })

  it('redacts a query secret by what its key decodes to, however it is spelled, and still accepts %74oken', async () => {
    const { app, lines, calls } = setup()
    const spellings = ['%74oken', 'TOKEN', 'Token', '%54%4F%4B%45%4E', '%2574oken', 'to%6Ben', 'access_token', 't%6fken', '%74oken%20']
    for (const key of spellings) {
      await app.inject({ method: 'POST', url: `/v1/dv2000/desk?a=1&${key}=${SECRET}&b=2`, payload: '{}' })
      await app.inject({ method: 'POST', url: `/v1/dv2000/nobody?${key}=${SECRET}`, payload: '{}' })
    }
    // The query parser decodes %74 to t: the sender is accepted, and its secret is still not logged.
    expect(calls.length).toBeGreaterThanOrEqual(2)
    await app.inject({ method: 'POST', url: `/v1/dv2000/desk?token=${SECRET}&token=${SECRET}x`, payload: '{}' })
    await app.inject({ method: 'POST', url: `/v1/dv2000/desk?${SECRET}`, payload: '{}' })
    // `;` between pairs, as many servers and proxies read a query.
    await app.inject({ method: 'POST', url: `/v1/dv2000/desk?a=1;token=${SECRET};b=2`, payload: '{}' })
    await app.inject({ method: 'POST', url: `/v1/dv2000/desk?a=1&b=2;%74oken=${SECRET}`, payload: '{}' })
    // A secret pasted into the path, after the source id, as a careless operator might configure the URL.
    for (const url of [`/v1/dv2000/desk/${SECRET}`, `/v1/dv2000/desk;token=${SECRET}`, `/v1/dv2000/desk;${SECRET}`]) {
      const inPath = await app.inject({ method: 'POST', url, payload: '{}' })
      expect(inPath.statusCode).toBe(404)
      expect(inPath.body).not.toContain(SECRET)
    }
    const log = lines.join('')
    expect(log).toContain('request completed')
    expect(log).toContain('a=1')
    expect(log).toContain('a=1;token=[redacted];b=2')
    expect(log).not.toContain(SECRET)
  })

  it('keeps secrets out of logs and answers for raw request targets that bypass a client library', async () => {
    const { app, lines } = setup()
    await app.listen({ host: '127.0.0.1', port: 0 })
    const { port } = app.server.address() as { port: number }
    const targets = [
      `http://user:${SECRET}@127.0.0.1:${port}/v1/dv2000/nobody`,
      `http://user:${SECRET}@127.0.0.1:${port}/v1/dv2000/desk?x=1`,
      `/v1/dv2000/desk?%74oken=${SECRET}#frag`,
      `/v1/dv2000/%ZZ?token=${SECRET}`,
      `/nowhere/${'%'}?%74oken=${SECRET}`,
    ]
    const answers: string[] = []
    for (const target of targets) {
      answers.push(
        await new Promise<string>((resolve, reject) => {
          const socket = connect(port, '127.0.0.1', () => socket.end(`POST ${target} HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}`))
          let text = ''
          socket.on('data', (chunk: Buffer) => (text += chunk.toString()))
          socket.on('end', () => resolve(text))
          socket.on('error', reject)
        }),
      )
    }
    await app.close()
    expect(answers.every((a) => /^HTTP\/1\.1 \d{3}/.test(a))).toBe(true)
    expect(answers.join('\n')).not.toContain(SECRET)
    expect(lines.join('')).not.toContain(SECRET)
    expect(lines.length).toBeGreaterThanOrEqual(targets.length)
  })

  it('believes X-Forwarded-For only from the proxies trustProxy names: the client is the right-most address not theirs', async () => {
    const statusFor = async (trustProxy: unknown, forwardedFor: string | undefined) => {
      const { app, calls } = setup(undefined, { trustProxy })
      const headers: Record<string, string> = forwardedFor === undefined ? {} : { 'x-forwarded-for': forwardedFor }
      const answer = await app.inject({ method: 'POST', url: `/v1/dv2000/office-only?token=${SECRET}`, payload: '{}', headers })
      return [answer.statusCode, calls[0]?.remoteAddress]
    }
    // inject() connects from 127.0.0.1: here the proxy in front of the bridge.
    expect(await statusFor(['127.0.0.1'], '10.1.2.3')).toEqual([200, '10.1.2.3'])
    // A client behind the proxy forges an allowed address at the left: the proxy appended the real one.
    expect(await statusFor(['127.0.0.1'], '10.1.2.3, 203.0.113.9')).toEqual([403, undefined])
    expect(await statusFor(['127.0.0.0/8', '192.0.2.7'], '10.1.2.3, 192.0.2.7')).toEqual([200, '10.1.2.3'])
    expect(await statusFor(1, '10.1.2.3, 203.0.113.9')).toEqual([403, undefined])
    expect(await statusFor(1, '203.0.113.9, 10.1.2.3')).toEqual([200, '10.1.2.3'])
    expect(await statusFor(2, '10.1.2.3, 203.0.113.9')).toEqual([200, '10.1.2.3'])
    // A peer that is not a named proxy: its header counts for nothing.
    expect(await statusFor(['10.9.9.9'], '10.1.2.3')).toEqual([403, undefined])
    expect(await statusFor(false, '10.1.2.3')).toEqual([403, undefined])
    // Garbage where an address should be is a refusal, never a 500.
    expect(await statusFor(['127.0.0.1'], 'not-an-address')).toEqual([403, undefined])
    expect(await statusFor(['127.0.0.1'], ',,,')).toEqual([403, undefined])
    expect(await statusFor(['127.0.0.1'], '10.1.2.3'.repeat(2000))).toEqual([403, undefined])
  })

  it('serves health, readiness and metrics', async () => {
    const { app } = setup()
    expect((await app.inject('/healthz')).json()).toEqual({ status: 'ok' })
    expect((await app.inject('/readyz')).json()).toMatchObject({ status: 'ready', delivering: 'kafka' })
    const metrics = await app.inject('/metrics')
    expect(metrics.headers['content-type']).toContain('text/plain')
    expect(metrics.body).toContain('# TYPE bridge_requests_total counter')
  })
})
