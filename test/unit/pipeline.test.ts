// The pipeline's start-up checks (a topics override must name a topic its source writes), and what a bug of ours costs.
import { describe, expect, it } from 'vitest'
import { loadSchemas } from '../../src/avro/schemas.js'
import { validateConfig } from '../../src/config/load.js'
import { ErrorCodes } from '../../src/errors.js'
import { createLogger } from '../../src/observability/logger.js'
import { createMetrics } from '../../src/observability/metrics.js'
import { createPipeline, plannedTopics } from '../../src/pipeline.js'
import { buildApp } from '../../src/app.js'
import { bridgeErrorOf } from './thrown.js'
import type { PreparedRecord } from '../../src/delivery/types.js'
import { createSourceRegistry, type SourceComponent } from '../../src/sources/index.js'
import { dv2000Source, type Dv2000SourceConfig } from '../../src/sources/dv2000/index.js'
import { packetBuffer, roomUpdateText } from '../fixtures/dv2000/index.js'

const schemas = loadSchemas()

function pipelineFor(sources: unknown[]) {
  return createPipeline({
    config: validateConfig({ sources }),
    schemas,
    sink: { deliver: async () => 'delivered' },
    logger: createLogger('silent'),
    metrics: createMetrics({ defaultMetrics: false }),
  })
}

describe('topic overrides', () => {
  it('accepts overrides of topics the source writes, and routes to them', () => {
    const sources = [
      { id: 'desk', type: 'dv2000', secrets: ['a-long-secret'], topics: { 'dv2000.hospitality': 'hotel7.rooms', 'bridge.deadletter': 'hotel7.dead' } },
      { id: 'hms', type: 'servio', secrets: ['a-long-secret'], entities: ['room'], topics: { 'servio.rooms': 'hotel7.servio-rooms' } },
    ]
    pipelineFor(sources)
    const topics = plannedTopics(validateConfig({ sources })).map((p) => p.topic)
    expect(topics).toContain('hotel7.rooms')
    expect(topics).toContain('hotel7.dead')
    expect(topics).toContain('hotel7.servio-rooms')
    expect(topics).not.toContain('dv2000.hospitality')
  })

  it('refuses a key the source never writes: a typo, a filtered-out category or entity, another sender\'s topic', () => {
    const error = bridgeErrorOf(() =>
      pipelineFor([
        { id: 'desk', type: 'dv2000', secrets: ['a-long-secret'], topics: { 'dv2000.hospitalty': 'x' } },
        { id: 'rooms-only', type: 'dv2000', secrets: ['a-long-secret'], categories: [3], topics: { 'dv2000.general': 'x' } },
        { id: 'hms', type: 'servio', secrets: ['a-long-secret'], entities: ['guest'], topics: { 'servio.rooms': 'x', 'dv2000.other': 'y' } },
      ]),
    )
    expect(error.code).toBe(ErrorCodes.CONFIG_INVALID)
    expect(error.message).toContain('sources[0].topics["dv2000.hospitalty"]: source "desk" never writes this topic')
    expect(error.message).toContain('sources[1].topics["dv2000.general"]: source "rooms-only" never writes this topic; it writes dv2000.hospitality, bridge.deadletter')
    expect(error.message).toContain('sources[2].topics["servio.rooms"]')
    expect(error.message).toContain('sources[2].topics["dv2000.other"]')
  })
})

describe('a record its own schema refuses (a bug of ours)', () => {
  it('keeps the raw body as a dead letter (400), as for a parser that throws, rather than answering 503', async () => {
    // DV2000 as built in, but emitting a category its schema cannot hold: what a source component bug looks like.
    const broken: SourceComponent<Dv2000SourceConfig> = {
      ...dv2000Source,
      ingest(body, context) {
        const result = dv2000Source.ingest(body, context)
        if (result.kind === 'records') for (const r of result.records) r.value['category'] = 'three'
        return result
      },
    }
    const delivered: PreparedRecord[][] = []
    const pipeline = createPipeline({
      config: validateConfig({ sources: [{ id: 'desk', type: 'dv2000', secrets: ['a-long-secret'] }] }),
      schemas,
      sink: { deliver: async (records) => (delivered.push([...records]), 'delivered') },
      logger: createLogger('silent'),
      metrics: createMetrics({ defaultMetrics: false }),
      sources: createSourceRegistry([broken]),
    })
    const body = packetBuffer(roomUpdateText(), 12)
    const source = validateConfig({ sources: [{ id: 'desk', type: 'dv2000', secrets: ['a-long-secret'] }] }).sources[0]!
    const outcome = await pipeline.ingest(source, { body, contentType: 'application/json', remoteAddress: '127.0.0.1', receivedAt: new Date(0) })
    expect(outcome).toMatchObject({ status: 'rejected', stored: 'delivered' })
    expect((outcome as { reason: string }).reason).toMatch(/^the bridge failed to read this body: cannot encode/)
    expect(delivered).toHaveLength(1)
    expect(delivered[0]!.map((r) => r.topic)).toEqual(['bridge.deadletter'])
    const letter = schemas.get('dead_letter')!.type.fromBuffer(delivered[0]![0]!.body) as { body: Buffer }
    expect(Buffer.compare(letter.body, body)).toBe(0)
  })
})

describe('the spool holds what the HTTP edge accepts', () => {
  it('refuses at start-up a bodyLimitBytes whose largest spool entry could not be read back, naming both keys', () => {
    const config = validateConfig({ http: { bodyLimitBytes: 100 * 1024 * 1024 }, spool: { dir: '/nonexistent/never-made' } })
    const error = bridgeErrorOf(() => buildApp(config, { logger: createLogger('silent') }))
    expect(error.code).toBe(ErrorCodes.CONFIG_INVALID)
    expect(error.message).toMatch(/http\.bodyLimitBytes \(104857600\) with http\.maxRecordsPerRequest \(10000\): a request could need a spool entry of \d+ bytes/)
    // The default (1 MiB, 10,000 records) is far inside.
    expect(() => checkedConfig()).not.toThrow()
  })
})

function checkedConfig() {
  return buildApp(validateConfig({ spool: { dir: '/nonexistent/never-made' } }), { logger: createLogger('silent') })
}
