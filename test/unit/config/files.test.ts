// Secrets and TLS material named by path: read at load, their errors naming key and path, never their content.
import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { loadConfig, validateConfig } from '../../../src/config/load.js'
import { ErrorCodes } from '../../../src/errors.js'
import { bridgeErrorOf } from '../thrown.js'

const dir = mkdtempSync(join(tmpdir(), 'bridge-config-files-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

let count = 0
function file(content: string): string {
  const path = join(dir, `file-${++count}`)
  writeFileSync(path, content)
  return path
}

function invalid(raw: unknown): string {
  const error = bridgeErrorOf(() => validateConfig(raw))
  expect(error.code).toBe(ErrorCodes.CONFIG_INVALID)
  return error.message
}

const SECRET = 'never-printed-s3cret'

describe('secrets from files', () => {
  it('reads kafka.sasl.passwordFile and schemaRegistry.passwordFile (without the trailing newline) into the password', () => {
    const config = validateConfig({
      kafka: { sasl: { mechanism: 'scram-sha-512', username: 'bridge', passwordFile: file(`${SECRET}\n`) } },
      schemaRegistry: { url: 'https://registry.example.com', username: 'bridge', passwordFile: file(`${SECRET}-registry\r\n`) },
    })
    expect(config.kafka.sasl).toEqual({ mechanism: 'scram-sha-512', username: 'bridge', password: SECRET })
    expect(config.schemaRegistry.password).toBe(`${SECRET}-registry`)
  })

  it('reads a source\'s secretsFile, one secret per line (blank and # lines skipped), beside its inline secrets', () => {
    const config = validateConfig({
      sources: [{ id: 'front-desk', type: 'dv2000', secrets: ['inline-secret-1'], secretsFile: file(`# rotated 2026-11\n${SECRET}-a\n\n${SECRET}-b\n`) }],
    })
    expect(config.sources[0]!.secrets).toEqual(['inline-secret-1', `${SECRET}-a`, `${SECRET}-b`])
    expect(validateConfig({ sources: [{ id: 'only-file', type: 'servio', secretsFile: file(`${SECRET}\n`) }] }).sources[0]!.secrets).toEqual([SECRET])
  })

  it('takes the file paths from BRIDGE_…_FILE variables, so no secret sits in the environment', () => {
    const configFile = file('sources:\n  - { id: front-desk, type: dv2000 }\n')
    const { config, overrides } = loadConfig(configFile, {
      BRIDGE_KAFKA_SASL_MECHANISM: 'scram-sha-256',
      BRIDGE_KAFKA_SASL_USERNAME: 'bridge',
      BRIDGE_KAFKA_SASL_PASSWORD_FILE: file(SECRET),
      BRIDGE_SCHEMA_REGISTRY_PASSWORD_FILE: file(`${SECRET}-r`),
      BRIDGE_SCHEMA_REGISTRY_USERNAME: 'bridge',
      BRIDGE_SOURCES_FRONT_DESK_SECRETS_FILE: file(`${SECRET}-s\n`),
    })
    expect(config.kafka.sasl?.password).toBe(SECRET)
    expect(config.schemaRegistry.password).toBe(`${SECRET}-r`)
    expect(config.sources[0]!.secrets).toEqual([`${SECRET}-s`])
    expect(overrides.map((o) => o.variable)).toContain('BRIDGE_SOURCES_FRONT_DESK_SECRETS_FILE')
  })

  it('refuses, naming key and path but never the content: a missing file, an empty one, a short secret, a password given twice', () => {
    const missing = join(dir, 'no-such-file')
    const message = invalid({
      kafka: { sasl: { mechanism: 'plain', username: 'bridge', passwordFile: missing } },
      schemaRegistry: { url: 'https://r.example.com', username: 'u', password: SECRET, passwordFile: file(SECRET) },
      sources: [
        { id: 'a1', type: 'dv2000', secretsFile: file(`${SECRET}\ntiny7\n`) },
        { id: 'a2', type: 'dv2000', secretsFile: file('\n# nothing\n') },
        { id: 'a3', type: 'dv2000' },
      ],
    })
    expect(message).toContain(`kafka.sasl.passwordFile: cannot read ${missing} (ENOENT)`)
    expect(message).toContain('schemaRegistry.password: give either schemaRegistry.password or schemaRegistry.passwordFile')
    expect(message).toMatch(/sources\[0\]\.secretsFile: secret 2 of \S+ is shorter than 8 characters/)
    expect(message).toMatch(/sources\[1\]\.secretsFile: \S+ holds no secret/)
    expect(message).toContain('sources[2].secrets: at least one secret is required (secrets, or secretsFile)')
    expect(message).not.toContain(SECRET)
    expect(message).not.toContain('tiny7')
    expect(invalid({ kafka: { sasl: { mechanism: 'plain', username: 'b', passwordFile: file('\n') } } })).toMatch(/kafka\.sasl\.passwordFile: \S+ is empty/)
    expect(invalid({ kafka: { sasl: { mechanism: 'plain', username: 'b' } } })).toContain('kafka.sasl.password: give either kafka.sasl.password or kafka.sasl.passwordFile')
  })
})

describe('Kafka TLS files', () => {
  const pki = mkdtempSync(join(dir, 'pki-'))
  const ssl = (...args: string[]): void => void execFileSync('openssl', args, { cwd: pki, stdio: 'ignore' })
  ssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '1', '-subj', '/CN=unit-test-ca')
  ssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'client.key', '-out', 'client.pem', '-days', '1', '-subj', '/CN=bridge')
  ssl('genpkey', '-algorithm', 'RSA', '-aes256', '-pass', 'pass:unit-test', '-out', 'encrypted.key')

  it('takes a private CA and a client certificate with its key', () => {
    const config = validateConfig({ kafka: { caFile: join(pki, 'ca.pem'), certFile: join(pki, 'client.pem'), keyFile: join(pki, 'client.key') } })
    expect(config.kafka).toMatchObject({ caFile: join(pki, 'ca.pem'), certFile: join(pki, 'client.pem'), keyFile: join(pki, 'client.key') })
  })

  it('refuses an unreadable or malformed file naming the key, a certificate without its key, an encrypted key; never prints a key', () => {
    const garbage = file('-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n')
    const message = invalid({ kafka: { caFile: join(pki, 'missing.pem'), certFile: garbage, keyFile: join(pki, 'encrypted.key') } })
    expect(message).toContain(`kafka.caFile: cannot read ${join(pki, 'missing.pem')} (ENOENT)`)
    expect(message).toContain(`kafka.certFile: certificate 1 in ${garbage} is not a valid X.509 certificate`)
    expect(message).toContain(`kafka.keyFile: ${join(pki, 'encrypted.key')} is not an unencrypted PEM private key`)
    expect(message).not.toContain('ENCRYPTED')
    expect(invalid({ kafka: { caFile: join(pki, 'client.key') } })).toContain('holds no PEM certificate')
    expect(invalid({ kafka: { certFile: join(pki, 'client.pem') } })).toContain('kafka.keyFile: a client certificate needs both kafka.certFile and kafka.keyFile')
  })
})
