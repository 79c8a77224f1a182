// A reload applies sources, certificates, passwords and the log level; a change to anything else is refused whole.
import { describe, expect, it } from 'vitest'
import { validateConfig } from '../../../src/config/load.js'
import { restartOnlyChanges } from '../../../src/reload/restart-only.js'

const base = {
  http: { port: 8080 },
  kafka: { brokers: ['k1:9092'], sasl: { mechanism: 'scram-sha-512', username: 'bridge', password: 'old-password' } },
  schemaRegistry: { url: 'https://registry:8081', username: 'u', password: 'old' },
  spool: { dir: '/var/spool/bridge' },
  sources: [{ id: 'front-desk', type: 'dv2000', secrets: ['first-secret-1'] }],
}
const config = (patch: (raw: typeof base & Record<string, unknown>) => void) => {
  const raw = structuredClone(base) as typeof base & Record<string, unknown>
  patch(raw)
  return validateConfig(raw)
}

describe('restartOnlyChanges', () => {
  it('lets sources and the log level change', () => {
    const next = config((raw) => {
      raw.sources = [
        { id: 'front-desk', type: 'dv2000', secrets: ['second-secret-2'], categories: [3] } as never,
        { id: 'lobby', type: 'servio', secrets: ['lobby-secret-1'] } as never,
      ]
      raw['log'] = { level: 'debug' }
    })
    expect(restartOnlyChanges(validateConfig(base), next)).toEqual([])
  })

  it('names every key only a restart can change: the port, the brokers, the spool folder, and the rest', () => {
    const next = config((raw) => {
      raw.http.port = 9090
      raw.kafka.brokers = ['k1:9092', 'k2:9092']
      raw.spool.dir = '/elsewhere'
      raw['topicPrefix'] = 'hotel7.'
      raw.kafka.sasl.password = 'new-password'
    })
    expect(restartOnlyChanges(validateConfig(base), next)).toEqual(['http.port', 'kafka.brokers', 'kafka.sasl.password', 'spool.dir', 'topicPrefix'])
  })
})
