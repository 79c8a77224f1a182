// An in-process bridge on a real socket, against the real broker and registry, with topics of its own.
import { randomUUID } from 'node:crypto'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { inject } from 'vitest'
import { buildApp, type App } from '../../../src/app.js'
import { validateConfig } from '../../../src/config/load.js'
import type { BridgeConfig } from '../../../src/config/schema.js'
import { createLogger } from '../../../src/observability/logger.js'

export interface RunningBridge {
  app: App
  config: BridgeConfig
  url: string
  prefix: string
  close(): Promise<void>
}

export const DV2000_SECRET = 'it-dv2000-secret'
export const SERVIO_SECRET = 'it-servio-secret'

/** A config whose topics carry a fresh prefix, so each test file reads only its own records. */
export function testConfig(overrides: Record<string, unknown> = {}): BridgeConfig {
  const id = randomUUID().slice(0, 8)
  const prefix = `it-${id}.`
  return validateConfig({
    http: { host: '127.0.0.1', port: 0 },
    kafka: { brokers: [inject('kafkaBrokers')], clientId: 'bridge-it' },
    schemaRegistry: { url: inject('schemaRegistryUrl') },
    topicPrefix: prefix,
    topics: { partitions: 3 },
    spool: { dir: join(tmpdir(), `bridge-it-spool-${id}`) },
    log: { level: process.env['TEST_LOG_LEVEL'] ?? 'silent' },
    sources: [
      { id: 'front-desk', type: 'dv2000', secrets: [DV2000_SECRET, 'it-rotated-secret'] },
      { id: 'hospitality-only', type: 'dv2000', secrets: [DV2000_SECRET], categories: [3] },
      { id: 'kyiv-central', type: 'servio', secrets: [SERVIO_SECRET], hotelId: '12' },
    ],
    ...overrides,
  })
}

/** `waitForKafka: false` for a bridge Kafka refuses: it serves (into its spool) without ever being prepared. */
export async function startBridge(config: BridgeConfig = testConfig(), options: { waitForKafka?: boolean } = {}): Promise<RunningBridge> {
  const logger = createLogger(config.log.level)
  const app = buildApp(config, { logger })
  await app.start()
  if (options.waitForKafka !== false) await app.kafkaPrepared()
  await app.http.listen({ host: '127.0.0.1', port: 0 })
  const address = app.http.server.address()
  if (address === null || typeof address === 'string') throw new Error('bridge did not bind a TCP port')
  return {
    app,
    config,
    url: `http://127.0.0.1:${address.port}`,
    prefix: config.topicPrefix,
    close: async () => void (await app.close()),
  }
}
