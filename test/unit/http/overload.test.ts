// Overload on real sockets: over http.maxConnections, or after the event loop has been busy without a pause for
// http.maxBusyMs, a new connection is closed at once, unanswered, and counted.
import { EventEmitter } from 'node:events'
import http from 'node:http'
import net, { type Server } from 'node:net'
import { describe, expect, it } from 'vitest'
import { validateConfig } from '../../../src/config/load.js'
import { shedOverload } from '../../../src/http/overload.js'
import { buildHttp } from '../../../src/http/server.js'
import { createLogger, type Logger } from '../../../src/observability/logger.js'
import { createMetrics } from '../../../src/observability/metrics.js'

/** Polls with pauses: polling at every turn would keep the loop busy, which is what the bridge sheds on. */
async function until(condition: () => Promise<boolean> | boolean): Promise<void> {
  while (!(await condition())) await new Promise((resolve) => setTimeout(resolve, 10))
}

function connections(server: Server): Promise<number> {
  return new Promise((resolve, reject) => server.getConnections((error, count) => (error ? reject(error) : resolve(count))))
}

/** Resolves with what the server sent before it closed the connection. */
function closedWith(socket: net.Socket): Promise<string> {
  let received = ''
  socket.on('data', (chunk: Buffer) => (received += chunk.toString()))
  socket.on('error', () => {})
  return new Promise((resolve) => socket.on('close', () => resolve(received)))
}

function post(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const request = http.request({ host: '127.0.0.1', port, method: 'POST', path: '/v1/dv2000/desk?token=limit-secret-1', agent: false, headers: { 'content-type': 'application/json' } }, (response) => {
      response.resume()
      response.on('end', () => resolve(response.statusCode ?? 0))
    })
    request.on('error', reject)
    request.end('{}')
  })
}

async function serving(http: Record<string, number>, beforeListening: () => void = () => {}) {
  const config = validateConfig({ http, sources: [{ id: 'desk', type: 'dv2000', secrets: ['limit-secret-1'] }] })
  const metrics = createMetrics({ defaultMetrics: false })
  const app = buildHttp({
    config,
    logger: createLogger('silent'),
    metrics,
    pipeline: { ingest: async () => ({ status: 'produced', eventId: 'e-limit', records: 1 }) },
    readiness: async () => ({ ready: true, delivering: 'kafka', kafka: 'connected', held: [], spool: { entries: 0, bytes: 0, usedBytes: 0, maxBytes: 1, writable: true } }),
  })
  beforeListening()
  await app.listen({ host: '127.0.0.1', port: 0 })
  const refused = async (reason: string): Promise<number> =>
    (await metrics.registry.getSingleMetric('bridge_http_connections_refused_total')!.get()).values.find((v) => v.labels['reason'] === reason)?.value ?? 0
  return { app, port: (app.server.address() as { port: number }).port, refused }
}

/** The event loop held, as a long synchronous turn holds it. */
function blockFor(ms: number): void {
  const until = performance.now() + ms
  while (performance.now() < until);
}

describe('overload', () => {
  it('closes a connection over http.maxConnections unanswered, counts it, and serves again once one closes', async () => {
    const { app, port, refused } = await serving({ maxConnections: 2 })
    const held = [net.connect(port, '127.0.0.1'), net.connect(port, '127.0.0.1')]
    try {
      await until(async () => (await connections(app.server)) === 2)
      const third = net.connect(port, '127.0.0.1')
      third.write('POST /v1/dv2000/desk?token=limit-secret-1 HTTP/1.1\r\nhost: x\r\ncontent-length: 2\r\n\r\n{}')
      expect(await closedWith(third)).toBe('')
      expect(await refused('max_connections')).toBe(1)

      held[0]!.destroy()
      await until(async () => (await connections(app.server)) === 1)
      expect(await post(port)).toBe(200)
    } finally {
      for (const socket of held) socket.destroy()
      await app.close()
    }
  })

  it('closes a connection that arrives after one turn held the event loop past http.maxBusyMs, then serves again', async () => {
    const { app, port, refused } = await serving({ maxBusyMs: 100 })
    try {
      // The kernel completes the handshake while this turn holds the loop; the bridge sees the connection after it.
      const late = net.connect(port, '127.0.0.1')
      late.write('POST /v1/dv2000/desk?token=limit-secret-1 HTTP/1.1\r\nhost: x\r\ncontent-length: 2\r\n\r\n{}')
      blockFor(300)
      expect(await closedWith(late)).toBe('')
      expect(await refused('busy')).toBe(1)
      await until(async () => (await post(port).catch(() => 0)) === 200)
    } finally {
      await app.close()
    }
  })

  it('closes connections while the loop has found work at every turn for http.maxBusyMs, in short turns too', async () => {
    const { app, port, refused } = await serving({ maxBusyMs: 100 })
    try {
      // 5 ms turns back to back: timers run on time, but the loop never waits, as under more load than it takes.
      let busy = true
      let busyLongEnough: () => void = () => {}
      const twiceTheLimit = new Promise<void>((resolve) => (busyLongEnough = resolve))
      const started = performance.now()
      const spin = (): void => {
        blockFor(5)
        if (performance.now() - started > 200) busyLongEnough()
        if (busy) setImmediate(spin)
      }
      spin()
      await twiceTheLimit
      const queued = net.connect(port, '127.0.0.1')
      queued.write('POST /v1/dv2000/desk?token=limit-secret-1 HTTP/1.1\r\nhost: x\r\ncontent-length: 2\r\n\r\n{}')
      expect(await closedWith(queued)).toBe('')
      busy = false
      expect(await refused('busy')).toBe(1)
      await until(async () => (await post(port).catch(() => 0)) === 200)
    } finally {
      await app.close()
    }
  })

  it('does not count a busy start-up: the first connection after listening is served', async () => {
    const { app, port, refused } = await serving({ maxBusyMs: 100 }, () => blockFor(300))
    try {
      expect(await post(port)).toBe(200)
      expect(await refused('busy')).toBe(0)
    } finally {
      await app.close()
    }
  })

  it('logs the refusals once per ten seconds, with how many there were', () => {
    const server = Object.assign(new EventEmitter(), { maxConnections: 0 }) as unknown as Server
    const warnings: unknown[] = []
    const logger = { warn: (fields: unknown) => warnings.push(fields) } as unknown as Logger
    let clock = 0
    let refused = 0
    shedOverload(server, { maxConnections: 5, maxBusyMs: 1_000_000 }, { logger, onRefused: () => refused++, now: () => clock })
    expect(server.maxConnections).toBe(5)
    for (let i = 0; i < 3; i++) server.emit('drop')
    clock = 9_999
    server.emit('drop')
    clock = 10_000
    server.emit('drop')
    expect(refused).toBe(5)
    server.emit('close')
    const limits = { maxConnections: 5, maxBusyMs: 1_000_000 }
    expect(warnings).toEqual([
      { refused: 1, reason: 'max_connections', ...limits },
      { refused: 4, reason: 'max_connections', ...limits },
    ])
  })
})
