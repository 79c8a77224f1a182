// The pipeline's start-up checks: a topics override must name a topic its source writes.
import { describe, expect, it } from 'vitest'
import { loadSchemas } from '../../src/avro/schemas.js'
import { validateConfig } from '../../src/config/load.js'
import { ErrorCodes } from '../../src/errors.js'
import { createLogger } from '../../src/observability/logger.js'
import { createMetrics } from '../../src/observability/metrics.js'
import { createPipeline } from '../../src/pipeline.js'
import { bridgeErrorOf } from './thrown.js'

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
    const pipeline = pipelineFor([
      { id: 'desk', type: 'dv2000', secrets: ['a-long-secret'], topics: { 'dv2000.hospitality': 'hotel7.rooms', 'bridge.deadletter': 'hotel7.dead' } },
      { id: 'hms', type: 'servio', secrets: ['a-long-secret'], entities: ['room'], topics: { 'servio.rooms': 'hotel7.servio-rooms' } },
    ])
    const topics = pipeline.plannedTopics().map((p) => p.topic)
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
