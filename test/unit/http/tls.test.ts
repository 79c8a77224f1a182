// HTTPS, for senders whose secret travels in the URL: a real TLS socket with a throw-away certificate.
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import https from 'node:https'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { validateConfig } from '../../../src/config/load.js'
import { buildHttp } from '../../../src/http/server.js'
import { createLogger } from '../../../src/observability/logger.js'
import { createMetrics } from '../../../src/observability/metrics.js'

const dir = mkdtempSync(join(tmpdir(), 'bridge-tls-'))
const certFile = join(dir, 'cert.pem')
const keyFile = join(dir, 'key.pem')

beforeAll(() => {
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyFile, '-out', certFile, '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], {
    stdio: 'ignore',
  })
})
afterAll(() => rmSync(dir, { recursive: true, force: true }))

function build(tls: Record<string, string>) {
  const config = validateConfig({ http: { tls }, sources: [{ id: 'desk', type: 'dv2000', secrets: ['tls-secret-1'] }] })
  return buildHttp({
    config,
    logger: createLogger('silent'),
    metrics: createMetrics({ defaultMetrics: false }),
    pipeline: { ingest: async () => ({ status: 'produced', eventId: 'e-tls', records: 1 }) },
    readiness: async () => ({ ready: true, delivering: 'kafka', kafka: 'connected', held: [], spool: { entries: 0, bytes: 0, usedBytes: 0, maxBytes: 1, writable: true } }),
  })
}

describe('http.tls', () => {
  it('serves the ingest route over HTTPS with the configured certificate', async () => {
    const app = build({ certFile, keyFile })
    await app.listen({ host: '127.0.0.1', port: 0 })
    const { port } = app.server.address() as { port: number }
    try {
      const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        const request = https.request(
          { host: '127.0.0.1', port, method: 'POST', path: '/v1/dv2000/desk?token=tls-secret-1', ca: readFileSync(certFile), headers: { 'content-type': 'application/json', connection: 'close' } },
          (response) => {
            let body = ''
            response.on('data', (chunk: Buffer) => (body += chunk.toString()))
            response.on('end', () => resolve({ status: response.statusCode ?? 0, body }))
          },
        )
        request.on('error', reject)
        request.end('{}')
      })
      expect(answer.status).toBe(200)
      expect(JSON.parse(answer.body)).toMatchObject({ status: 'produced', event_id: 'e-tls' })
    } finally {
      await app.close()
    }
  })

  it('refuses to start with a certificate it cannot read, naming the key', () => {
    expect(() => build({ certFile: join(dir, 'missing.pem'), keyFile })).toThrow(/http\.tls: cannot read .*missing\.pem/)
  })
})
