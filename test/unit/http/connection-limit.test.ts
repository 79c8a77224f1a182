// http.maxConnections: over it, a connection is closed at once and counted, on a real socket.
import { EventEmitter } from 'node:events'
import http from 'node:http'
import net, { type Server } from 'node:net'
import { describe, expect, it } from 'vitest'
import { validateConfig } from '../../../src/config/load.js'
import { limitConnections } from '../../../src/http/connection-limit.js'
import { buildHttp } from '../../../src/http/server.js'
import { createLogger, type Logger } from '../../../src/observability/logger.js'
import { createMetrics } from '../../../src/observability/metrics.js'

async function until(condition: () => Promise<boolean> | boolean): Promise<void> {
  while (!(await condition())) await new Promise((resolve) => setImmediate(resolve))
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

describe('http.maxConnections', () => {
  it('closes a connection over the limit unanswered, counts it, and serves again once one closes', async () => {
    const config = validateConfig({ http: { maxConnections: 2 }, sources: [{ id: 'desk', type: 'dv2000', secrets: ['limit-secret-1'] }] })
    const metrics = createMetrics({ defaultMetrics: false })
    const app = buildHttp({
      config,
      logger: createLogger('silent'),
      metrics,
      pipeline: { ingest: async () => ({ status: 'produced', eventId: 'e-limit', records: 1 }) },
      readiness: async () => ({ ready: true, delivering: 'kafka', kafka: 'connected', held: [], spool: { entries: 0, bytes: 0, usedBytes: 0, maxBytes: 1, writable: true } }),
    })
    await app.listen({ host: '127.0.0.1', port: 0 })
    const { port } = app.server.address() as { port: number }
    const held = [net.connect(port, '127.0.0.1'), net.connect(port, '127.0.0.1')]
    try {
      await until(async () => (await connections(app.server)) === 2)
      const third = net.connect(port, '127.0.0.1')
      third.write('POST /v1/dv2000/desk?token=limit-secret-1 HTTP/1.1\r\nhost: x\r\ncontent-length: 2\r\n\r\n{}')
      expect(await closedWith(third)).toBe('')
      expect((await metrics.registry.getSingleMetric('bridge_http_connections_refused_total')!.get()).values[0]!.value).toBe(1)

      held[0]!.destroy()
      await until(async () => (await connections(app.server)) === 1)
      expect(await post(port)).toBe(200)
    } finally {
      for (const socket of held) socket.destroy()
      await app.close()
    }
  })

  it('logs the refusals once per ten seconds, with how many there were', () => {
    const server = Object.assign(new EventEmitter(), { maxConnections: 0 }) as unknown as Server
    const warnings: unknown[] = []
    const logger = { warn: (fields: unknown) => warnings.push(fields) } as unknown as Logger
    let clock = 0
    let refused = 0
    limitConnections(server, 5, { logger, onRefused: () => refused++, now: () => clock })
    expect(server.maxConnections).toBe(5)
    for (let i = 0; i < 3; i++) server.emit('drop')
    clock = 9_999
    server.emit('drop')
    clock = 10_000
    server.emit('drop')
    expect(refused).toBe(5)
    expect(warnings).toEqual([
      { refused: 1, maxConnections: 5 },
      { refused: 4, maxConnections: 5 },
    ])
  })
})
