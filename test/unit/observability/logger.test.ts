// The logger's redaction: every shape in which the bridge holds a secret is censored, whoever logs it.
import { describe, expect, it } from 'vitest'
import { capturingLogger } from '../delivery/spool-fixtures.js'

const SECRET = 'do-not-print-4711'

/** The one line `fields` make, as the process logger (redaction and serializers) writes it. */
function logged(fields: Record<string, unknown>): string {
  const { logger, lines } = capturingLogger()
  logger.info(fields, 'a line')
  return JSON.stringify(lines[0])
}

const source = { id: 'desk', type: 'dv2000', secrets: [SECRET] }

describe('log redaction', () => {
  it.each([
    ['a source', { source }],
    ['the sources', { sources: [source] }],
    ['a config', { config: { sources: [source], kafka: { sasl: { mechanism: 'plain', username: 'u', password: SECRET } }, schemaRegistry: { password: SECRET } } }],
    ['a secrets list', { secrets: [SECRET] }],
    ['kafka settings', { kafka: { sasl: { password: SECRET } } }],
    ['SASL settings', { sasl: { password: SECRET } }],
    ['a password', { password: SECRET }],
    ['registry settings', { schemaRegistry: { url: 'http://127.0.0.1:8081', password: SECRET } }],
    ['headers', { headers: { authorization: `Basic ${SECRET}`, 'proxy-authorization': SECRET } }],
  ])('%s: censored', (_what, fields) => {
    const line = logged(fields)
    expect(line).toContain('[redacted]')
    expect(line).not.toContain(SECRET)
  })

  it('a request: its Authorization header is not printed, nor a token in its URL', () => {
    const line = logged({ req: { method: 'POST', url: `/v1/dv2000/desk?token=${SECRET}`, headers: { authorization: `Bearer ${SECRET}`, 'user-agent': 'DV2000' } } })
    expect(line).not.toContain(SECRET)
    expect(JSON.parse(line)).toMatchObject({ req: { method: 'POST', url: '/v1/dv2000/desk?token=[redacted]', userAgent: 'DV2000' } })
  })

  it('leaves everything else as it was', () => {
    const line = JSON.parse(logged({ source: { id: 'desk', type: 'dv2000' }, records: 3, event_id: 'e-1' })) as Record<string, unknown>
    expect(line).toMatchObject({ source: { id: 'desk', type: 'dv2000' }, records: 3, event_id: 'e-1', msg: 'a line' })
  })
})
