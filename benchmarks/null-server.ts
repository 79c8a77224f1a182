// The HTTP ceiling for `make bench`: fastify with the bridge's HTTP settings that parses the JSON body and answers 200,
// doing nothing else. Usage: node --import tsx benchmarks/null-server.ts PORT [CERT_FILE KEY_FILE]  (HTTPS with both)
import Fastify from 'fastify'
import { readFileSync } from 'node:fs'

const port = Number(process.argv[2] ?? '18081')
const [certFile, keyFile] = process.argv.slice(3)
const https = certFile === undefined || keyFile === undefined ? null : { cert: readFileSync(certFile), key: readFileSync(keyFile) }
const app = Fastify({ logger: false, bodyLimit: 1_048_576, keepAliveTimeout: 5_000, requestTimeout: 30_000, forceCloseConnections: 'idle', ...(https === null ? {} : { https }) })
// As the bridge: bodies arrive as bytes, whatever their type; then the JSON is parsed here.
app.removeAllContentTypeParsers()
app.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body))
app.post('/v1/:type/:source', async (request) => {
  const event = JSON.parse((request.body as Buffer).toString('utf8')) as { message?: { room?: string } }
  return { status: 'produced', event_id: crypto.randomUUID(), records: 1, room: event.message?.room ?? null }
})
await app.listen({ host: '127.0.0.1', port })
process.stdout.write('listening\n')
process.once('SIGTERM', () => void app.close().then(() => process.exit(0)))
