// Configuration: defaults, the SPEC §7 example, errors that name the key, the YAML file and BRIDGE_* overrides.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'
import { loadConfig, validateConfig } from '../../../src/config/load.js'
import { isCidr } from '../../../src/config/schema.js'
import { ErrorCodes } from '../../../src/errors.js'
import { bridgeErrorOf } from '../thrown.js'

const dir = mkdtempSync(join(tmpdir(), 'bridge-config-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

let files = 0
function yamlFile(text: string): string {
  const file = join(dir, `config-${++files}.yaml`)
  writeFileSync(file, text)
  return file
}

/** The CONFIG_INVALID message for `raw`. */
function invalid(raw: unknown): string {
  const error = bridgeErrorOf(() => validateConfig(raw))
  expect(error.code).toBe(ErrorCodes.CONFIG_INVALID)
  return error.message
}

const dv2000 = { id: 'front-desk', type: 'dv2000', secrets: ['demo-dv2000-secret'] }

// SPEC §7 verbatim, but with real secrets in place of its "…" placeholders (a secret needs 8 characters).
const SPEC_EXAMPLE = `
http:           { host: 0.0.0.0, port: 8080, bodyLimitBytes: 1048576 }
kafka:          { brokers: ["127.0.0.1:9092"], clientId: hotel-kafka-bridge }
schemaRegistry: { url: "http://127.0.0.1:8081" }   # any Confluent-API registry base URL
topicPrefix: ""
spool:          { dir: ./var/spool, maxBytes: 1073741824 }
sources:
  - { id: front-desk, type: dv2000, secrets: ["dv2000-secret-1"], categories: [3] }
  - { id: kyiv-central, type: servio, secrets: ["servio-secret-1"], hotelId: "12" }
`

describe('validateConfig', () => {
  it('fills every default into an empty config', () => {
    const config = validateConfig({})
    expect(config).toEqual({
      http: { host: '0.0.0.0', port: 8080, bodyLimitBytes: 1_048_576, maxRecordsPerRequest: 10_000, maxConnections: 256, maxBusyMs: 1_000, processes: 1, trustProxy: false },
      kafka: expect.objectContaining({ brokers: ['127.0.0.1:9092'], clientId: 'hotel-kafka-bridge', readerGroupPrefix: 'hotel-kafka-bridge-' }),
      topics: { create: true, partitions: 3, replicationFactor: -1, minInsyncReplicas: -1 },
      schemaRegistry: { url: 'http://127.0.0.1:8081', timeoutMs: 5_000 },
      topicPrefix: '',
      spool: { dir: './var/spool', maxBytes: 1_073_741_824 },
      shutdownGraceMs: 8_000,
      log: { level: 'info' },
      reload: { watch: false, watchIntervalMs: 5_000 },
      sources: [],
    })
    expect(validateConfig(undefined)).toEqual(config)
  })

  it('accepts the SPEC §7 example and keeps its values', async () => {
    const { parse } = await import('yaml')
    const config = validateConfig(parse(SPEC_EXAMPLE))
    expect(config.http).toMatchObject({ host: '0.0.0.0', port: 8080, bodyLimitBytes: 1_048_576 })
    expect(config.schemaRegistry.url).toBe('http://127.0.0.1:8081')
    expect(config.sources).toEqual([
      { id: 'front-desk', type: 'dv2000', secrets: ['dv2000-secret-1'], categories: [3] },
      { id: 'kyiv-central', type: 'servio', secrets: ['servio-secret-1'], hotelId: '12' },
    ])
  })

  it('accepts the shipped config/example.yaml', () => {
    const file = fileURLToPath(new URL('../../../config/example.yaml', import.meta.url))
    const { config } = loadConfig(file, {})
    expect(config.sources.map((s) => [s.id, s.type])).toEqual([['front-desk', 'dv2000'], ['kyiv-central', 'servio']])
    // Natural batching by default: no produce call waits for company when none is in flight.
    expect(config.kafka.lingerMs).toBe(0)
  })

  it('accepts docker-compose.yml\'s config/compose.yaml with the secrets and settings compose and the image give it', () => {
    const file = fileURLToPath(new URL('../../../config/compose.yaml', import.meta.url))
    const env = {
      // The image's ENV, then the compose file's environment.
      BRIDGE_HTTP_HOST: '0.0.0.0',
      BRIDGE_SPOOL_DIR: '/var/lib/bridge/spool',
      BRIDGE_SOURCES_FRONT_DESK_SECRETS: 'front-desk-secret-1,front-desk-secret-2',
      BRIDGE_SOURCES_KYIV_CENTRAL_SECRETS: 'kyiv-central-secret',
    }
    const { config } = loadConfig(file, env)
    expect(config.http).toMatchObject({ host: '0.0.0.0', port: 8080 })
    expect(config.spool.dir).toBe('/var/lib/bridge/spool')
    expect(config.sources.map((s) => [s.id, s.type, s.secrets.length])).toEqual([['front-desk', 'dv2000', 2], ['kyiv-central', 'servio', 1]])
  })

  const bad: [string, unknown, RegExp][] = [
    ['a port out of range', { http: { port: 70000 } }, /http\.port/],
    ['a port that is text', { http: { port: 'eighty' } }, /http\.port/],
    ['a fractional port', { http: { port: 80.5 } }, /http\.port/],
    ['a zero body limit', { http: { bodyLimitBytes: 0 } }, /http\.bodyLimitBytes/],
    ['no brokers', { kafka: { brokers: [] } }, /kafka\.brokers/],
    ['a broker without a port', { kafka: { brokers: ['kafka'] } }, /kafka\.brokers\[0\]: must be host:port/],
    ['a registry URL that is not a URL', { schemaRegistry: { url: 'not a url' } }, /schemaRegistry\.url/],
    ['a topic prefix with a slash', { topicPrefix: 'a/b' }, /topicPrefix/],
    ['no secrets', { sources: [{ ...dv2000, secrets: [] }] }, /sources\[0\]\.secrets: at least one secret is required/],
    ['a short secret', { sources: [{ ...dv2000, secrets: ['ok-long-secret', 'short'] }] }, /sources\[0\]\.secrets\[1\]: a secret must be at least 8/],
    ['a bad CIDR', { sources: [{ ...dv2000, allowCidrs: ['10.0.0.0/8', '10.0.0.0/33'] }] }, /sources\[0\]\.allowCidrs\[1\]: must be an IPv4 or IPv6/],
    ['a category over 255', { sources: [{ ...dv2000, categories: [3, 256] }] }, /sources\[0\]\.categories\[1\]/],
    ['a bad source id', { sources: [{ ...dv2000, id: 'front desk' }] }, /sources\[0\]\.id/],
    ['an unknown source type', { sources: [{ ...dv2000, type: 'opera' }] }, /sources\[0\]\.type/],
    ['a Servio key on a DV2000 source', { sources: [{ ...dv2000, hotelId: '12' }] }, /sources\[0\].*hotelId/],
    ['an unknown top-level key', { kafkaa: {} }, /\(top level\).*kafkaa/],
    ['an unknown nested key', { http: { prot: 1 } }, /http.*prot/],
    ['a bad log level', { log: { level: 'loud' } }, /log\.level/],
  ]
  it.each(bad)('refuses %s, naming the key', (_what, raw, message) => {
    expect(invalid(raw)).toMatch(message)
  })

  it('takes trustProxy as false, a hop count or proxy addresses, and refuses true saying why', () => {
    expect(validateConfig({ http: { trustProxy: 2 } }).http.trustProxy).toBe(2)
    expect(validateConfig({ http: { trustProxy: ['10.0.0.5', '::1'] } }).http.trustProxy).toEqual(['10.0.0.5', '::1'])
    expect(invalid({ http: { trustProxy: true } })).toMatch(/http\.trustProxy: true would believe every X-Forwarded-For hop/)
    expect(invalid({ http: { trustProxy: ['10.0.0.0/33'] } })).toMatch(/http\.trustProxy/)
    expect(invalid({ http: { trustProxy: -1 } })).toMatch(/http\.trustProxy/)
    expect(bridgeErrorOf(() => loadConfig(undefined, { BRIDGE_HTTP_TRUST_PROXY: 'TRUE' })).message).toMatch(/true would believe every hop|set by BRIDGE_HTTP_TRUST_PROXY/)
    expect(loadConfig(undefined, { BRIDGE_HTTP_TRUST_PROXY: '1' }).config.http.trustProxy).toBe(1)
    expect(loadConfig(undefined, { BRIDGE_HTTP_TRUST_PROXY: 'false' }).config.http.trustProxy).toBe(false)
  })

  it('refuses two source ids that one BRIDGE_SOURCES_<ID>_* variable would set', () => {
    const message = invalid({ sources: [dv2000, { ...dv2000, id: 'front_desk' }, { ...dv2000, id: 'Front.Desk' }] })
    expect(message).toMatch(/sources\[1\]\.id: "front_desk" and "front-desk" share the environment variables BRIDGE_SOURCES_FRONT_DESK_\*/)
    expect(message).toMatch(/sources\[2\]\.id: "Front.Desk" and "front_desk"/)
  })

  it('moves a registry URL\'s credentials into Basic auth, and never prints them when it refuses one', () => {
    const moved = validateConfig({ schemaRegistry: { url: 'https://bridge:s%40cret-pass@registry.example.com:8081/apis/ccompat/v7' } })
    expect(moved.schemaRegistry).toEqual({ url: 'https://registry.example.com:8081/apis/ccompat/v7', username: 'bridge', password: 's@cret-pass', timeoutMs: 5_000 })
    expect(validateConfig({ schemaRegistry: { url: 'http://u:local-pass@127.0.0.1:8081' } }).schemaRegistry.url).toBe('http://127.0.0.1:8081')
    const refusals = [
      invalid({ schemaRegistry: { url: 'http://bridge:clear-pass@registry.example.com:8081' } }),
      invalid({ schemaRegistry: { url: 'https://bridge:clear-pass@registry.example.com', username: 'other' } }),
      invalid({ schemaRegistry: { url: 'http://registry.example.com', username: 'u', password: 'clear-pass' } }),
      invalid({ schemaRegistry: { url: 'ftp://bridge:clear-pass@registry.example.com' } }),
      invalid({ kafka: { brokers: ['bridge:clear-pass@kafka:9092'] } }),
    ]
    expect(refusals[0]).toMatch(/schemaRegistry\.url: carries credentials over plain http:\/\/ to another host/)
    expect(refusals[1]).toMatch(/schemaRegistry\.url: holds credentials while schemaRegistry\.username\/password are set too/)
    expect(refusals[2]).toMatch(/schemaRegistry\.url: carries credentials over plain http/)
    expect(refusals[3]).toMatch(/schemaRegistry\.url: must be an http/)
    expect(refusals[4]).toMatch(/kafka\.brokers\[0\]: must be host:port/)
    for (const message of refusals) expect(message).not.toContain('clear-pass')
  })

  it('refuses a linger that reaches the ack timeout: every event under load would be spooled', () => {
    expect(invalid({ kafka: { brokers: ['kafka:9092'], busyLingerMs: 1000, ackTimeoutMs: 1000 } })).toMatch(/kafka\.busyLingerMs: kafka\.lingerMs \+ busyLingerMs \(1000 ms\) must be less than kafka\.ackTimeoutMs \(1000 ms\)/)
    expect(invalid({ kafka: { brokers: ['kafka:9092'], lingerMs: 300, busyLingerMs: 300, ackTimeoutMs: 500 } })).toMatch(/\(600 ms\) must be less than kafka\.ackTimeoutMs \(500 ms\)/)
  })

  it('refuses a duplicate source id, naming the second one', () => {
    const message = invalid({ sources: [dv2000, { ...dv2000, type: 'servio', secrets: ['another-secret'] }] })
    expect(message).toMatch(/sources\[1\]\.id: duplicate source id "front-desk"/)
  })

  it('lists every problem at once', () => {
    const message = invalid({ http: { port: -1 }, spool: { maxBytes: 0 } })
    expect(message).toMatch(/http\.port/)
    expect(message).toMatch(/spool\.maxBytes/)
  })

  it('freezes the result, deeply', () => {
    const config = validateConfig({ sources: [dv2000] })
    expect(Object.isFrozen(config)).toBe(true)
    expect(Object.isFrozen(config.http)).toBe(true)
    expect(Object.isFrozen(config.kafka.brokers)).toBe(true)
    expect(Object.isFrozen(config.sources[0]!.secrets)).toBe(true)
    expect(() => {
      ;(config.http as { port: number }).port = 1
    }).toThrow(TypeError)
  })
})

describe('isCidr', () => {
  it.each(['10.0.0.0/8', '192.168.1.5', '192.168.1.5/32', '0.0.0.0/0', '::1', '2001:db8::/32', '::/0', '::ffff:10.0.0.0/104'])('accepts %s', (value) => {
    expect(isCidr(value)).toBe(true)
  })
  it.each(['10.0.0.0/33', '::1/129', '10.0.0.0/', '10.0.0.0/8/1', '10.0.0/8', 'example.com', '', '10.0.0.0/-1', '10.0.0.0/ 8'])('refuses %j', (value) => {
    expect(isCidr(value)).toBe(false)
  })
})

describe('loadConfig', () => {
  const file = yamlFile(`
http: { port: 8080 }
kafka: { brokers: ["k1:9092"] }
sources:
  - { id: front-desk, type: dv2000, secrets: ["from-the-file"] }
  - { id: kyiv-central, type: servio, secrets: ["servio-secret"], hotelId: "12" }
`)

  it('reads the YAML file', () => {
    const loaded = loadConfig(file, {})
    expect(loaded.file).toBe(file)
    expect(loaded.overrides).toEqual([])
    expect(loaded.config.kafka.brokers).toEqual(['k1:9092'])
    expect(loaded.config.sources[0]!.secrets).toEqual(['from-the-file'])
    expect(Object.isFrozen(loaded.config)).toBe(true)
    expect(Object.isFrozen(loaded.config.sources[1])).toBe(true)
  })

  it('lets BRIDGE_* variables override the file, with typed values, and reports their names', () => {
    const loaded = loadConfig(file, {
      BRIDGE_HTTP_PORT: '9090',
      BRIDGE_KAFKA_BROKERS: 'a:1,b:2',
      BRIDGE_SCHEMA_REGISTRY_URL: 'http://registry.internal:8081/apis/ccompat/v7',
      BRIDGE_SOURCES_FRONT_DESK_SECRETS: 'x12345678,y12345678',
      BRIDGE_TOPIC_PREFIX: 'hotel1.',
      BRIDGE_HTTP_TRUST_PROXY: '10.0.0.5, 10.9.0.0/16',
      UNRELATED: 'ignored',
    })
    const { config } = loaded
    expect(config.http.port).toBe(9090)
    expect(config.http.trustProxy).toEqual(['10.0.0.5', '10.9.0.0/16'])
    expect(config.kafka.brokers).toEqual(['a:1', 'b:2'])
    expect(config.schemaRegistry.url).toBe('http://registry.internal:8081/apis/ccompat/v7')
    expect(config.topicPrefix).toBe('hotel1.')
    expect(config.sources[0]!.secrets).toEqual(['x12345678', 'y12345678'])
    expect(config.sources[1]!.secrets).toEqual(['servio-secret'])
    expect(loaded.overrides.map((o) => o.variable).sort()).toEqual([
      'BRIDGE_HTTP_PORT', 'BRIDGE_HTTP_TRUST_PROXY', 'BRIDGE_KAFKA_BROKERS', 'BRIDGE_SCHEMA_REGISTRY_URL',
      'BRIDGE_SOURCES_FRONT_DESK_SECRETS', 'BRIDGE_TOPIC_PREFIX',
    ])
    expect(loaded.overrides.find((o) => o.variable === 'BRIDGE_SOURCES_FRONT_DESK_SECRETS')?.path).toEqual(['sources', 0, 'secrets'])
    expect(Object.isFrozen(config.sources[0]!.secrets)).toBe(true)
  })

  it('accepts a JSON array in a list variable, and keeps a secret that looks like a number as text', () => {
    const { config } = loadConfig(file, {
      BRIDGE_KAFKA_BROKERS: '["[::1]:9092", "k2:9092"]',
      BRIDGE_SOURCES_KYIV_CENTRAL_SECRETS: '12345678',
    })
    expect(config.kafka.brokers).toEqual(['[::1]:9092', 'k2:9092'])
    expect(config.sources[1]!.secrets).toEqual(['12345678'])
  })

  it('types a source\'s list, CIDR and map overrides', () => {
    const { config } = loadConfig(file, {
      BRIDGE_SOURCES_FRONT_DESK_CATEGORIES: '3,1',
      BRIDGE_SOURCES_FRONT_DESK_ALLOW_CIDRS: '10.0.0.0/8, ::1',
      BRIDGE_SOURCES_FRONT_DESK_TOPICS: '{"dv2000.hospitality": "hotel1.rooms"}',
      BRIDGE_SOURCES_FRONT_DESK_RATE_LIMIT: '{perSecond: 5, burst: 10}',
      BRIDGE_SOURCES_KYIV_CENTRAL_HOTEL_ID: '0042',
    })
    expect(config.sources[0]).toMatchObject({
      categories: [3, 1],
      allowCidrs: ['10.0.0.0/8', '::1'],
      topics: { 'dv2000.hospitality': 'hotel1.rooms' },
      rateLimit: { perSecond: 5, burst: 10 },
    })
    expect(config.sources[1]).toMatchObject({ hotelId: '0042' })
  })

  it('builds a config from the environment alone', () => {
    const loaded = loadConfig(undefined, { BRIDGE_HTTP_PORT: '9091' })
    expect(loaded.file).toBeUndefined()
    expect(loaded.config.http.port).toBe(9091)
    expect(loaded.config.http.host).toBe('0.0.0.0')
  })

  it('refuses BRIDGE_* variables that set nothing, suggesting the name meant', () => {
    const error = bridgeErrorOf(() =>
      loadConfig(file, { BRIDGE_HTTP_PROT: '9090', BRIDGE_SOURCES_FRONT_DSK_SECRETS: 'x12345678', BRIDGE_SOURCES_NOBODY_AT_ALL_SECRETS: 'x12345678', BRIDGE_SOURCES: '[]', BRIDGE_CONFIG: file }),
    )
    expect(error.code).toBe(ErrorCodes.CONFIG_INVALID)
    expect(error.message).toContain('BRIDGE_HTTP_PROT: matches no config key (did you mean BRIDGE_HTTP_PORT?)')
    expect(error.message).toContain('BRIDGE_SOURCES_FRONT_DSK_SECRETS: matches no configured source and key (did you mean BRIDGE_SOURCES_FRONT_DESK_SECRETS?)')
    expect(error.message).toMatch(/BRIDGE_SOURCES_NOBODY_AT_ALL_SECRETS: matches no configured source and key/)
    expect(error.message).toMatch(/BRIDGE_SOURCES: matches no config key/)
    expect(error.message).not.toContain('BRIDGE_CONFIG')
    expect(error.message).not.toContain('x12345678')
  })

  it('names the key when an override is not valid', () => {
    const error = bridgeErrorOf(() => loadConfig(file, { BRIDGE_HTTP_PORT: 'ninety' }))
    expect(error.code).toBe(ErrorCodes.CONFIG_INVALID)
    expect(error.message).toContain(file)
    expect(error.message).toMatch(/http\.port/)
  })

  it('says which file is missing', () => {
    const missing = join(dir, 'nope.yaml')
    const error = bridgeErrorOf(() => loadConfig(missing, {}))
    expect(error.code).toBe(ErrorCodes.CONFIG_INVALID)
    expect(error.message).toContain(`cannot read config file ${missing}`)
  })

  it('says where a file is not valid YAML', () => {
    const broken = yamlFile('http:\n  port: 8080\n  host: [unclosed\nkafka: {}\n')
    const error = bridgeErrorOf(() => loadConfig(broken, {}))
    expect(error.code).toBe(ErrorCodes.CONFIG_INVALID)
    expect(error.message).toContain(broken)
    expect(error.message).toMatch(/not valid YAML at line \d+/)
  })

  it('refuses a file that is not a mapping', () => {
    const list = yamlFile('- a\n- b\n')
    expect(bridgeErrorOf(() => loadConfig(list, {})).message).toMatch(/must hold a YAML mapping/)
  })

  it('treats an empty file as all defaults', () => {
    expect(loadConfig(yamlFile(''), {}).config.http.port).toBe(8080)
  })

  it('names the file and the key of a bad value', () => {
    const bad = yamlFile('http: { port: 99999 }\nsources:\n  - { id: x1, type: dv2000, secrets: [] }\n')
    const error = bridgeErrorOf(() => loadConfig(bad, {}))
    expect(error.message).toContain(`config file ${bad} is invalid`)
    expect(error.message).toMatch(/http\.port/)
    expect(error.message).toMatch(/sources\[0\]\.secrets/)
  })

  // Secrets are to be set from the environment (config/example.yaml says so); any characters a password may hold must work.
  it.each(['!Hotel-2024-secret', '@Hotel-2024-secret', '*starts-with-star', '&starts-with-ampersand', '%percent-secret', '|pipe-secret', '[bracketed]-secret', '{braced}-secret'])(
    'takes %j from BRIDGE_SOURCES_<ID>_SECRETS as the secret it is',
    (secret) => {
      const { config } = loadConfig(file, { BRIDGE_SOURCES_FRONT_DESK_SECRETS: secret })
      expect(config.sources[0]!.secrets).toEqual([secret])
    },
  )

  it('answers an override that is not even YAML with CONFIG_INVALID naming the variable', () => {
    const error = bridgeErrorOf(() => loadConfig(file, { BRIDGE_HTTP_PORT: '{' }))
    expect(error.code).toBe(ErrorCodes.CONFIG_INVALID)
    expect(error.message).toContain('http.port: Invalid input: expected number, received string (set by BRIDGE_HTTP_PORT)')
  })

  it('names the variable behind a bad value inside a source, and only that one', () => {
    const error = bridgeErrorOf(() => loadConfig(file, { BRIDGE_SOURCES_FRONT_DESK_SECRETS: 'short', BRIDGE_LOG_LEVEL: 'debug' }))
    expect(error.message).toContain('sources[0].secrets[0]: a secret must be at least 8 characters (set by BRIDGE_SOURCES_FRONT_DESK_SECRETS)')
    expect(error.message).not.toContain('BRIDGE_LOG_LEVEL')
  })
})
