// /readyz's answers: delivering to Kafka, spooling with room, full, and a held spool.
import { describe, expect, it } from 'vitest'
import type { DeliveryMode } from '../../src/delivery/deliverer.js'
import type { KafkaState } from '../../src/delivery/kafka.js'
import { createReadiness } from '../../src/readiness.js'

function readiness(state: {
  mode?: DeliveryMode
  entries?: number
  usedBytes?: number
  prepared?: boolean
  kafkaState?: KafkaState
  probe?: boolean
  up?: boolean
  blocked?: { reason: string; message: string; since: Date }
  refused?: Map<string, string>
}) {
  let probes = 0
  const check = createReadiness({
    mode: () => state.mode ?? 'direct',
    spool: { entries: state.entries ?? 0, bytes: state.usedBytes ?? 0, usedBytes: state.usedBytes ?? 0 },
    maxBytes: 1_000,
    kafka: {
      prepared: state.prepared ?? true,
      state: state.kafkaState ?? 'connected',
      probe: async () => {
        probes++
        return state.probe ?? false
      },
    },
    kafkaUp: () => state.up ?? false,
    blocked: () => state.blocked,
    refusedSubjects: () => state.refused ?? new Map(),
  })
  return { check, probes: () => probes }
}

describe('readiness', () => {
  it('says kafka when nothing is spooled and Kafka is connected, probing only when the connection is in doubt', async () => {
    const connected = readiness({})
    expect(await connected.check()).toEqual({ ready: true, delivering: 'kafka', kafka: 'connected', spool: { entries: 0, bytes: 0, usedBytes: 0, maxBytes: 1_000 } })
    expect(connected.probes()).toBe(0)
    const reconnecting = readiness({ kafkaState: 'unreachable', probe: true })
    expect(await reconnecting.check()).toMatchObject({ ready: true, delivering: 'kafka', kafka: 'connected' })
    expect(reconnecting.probes()).toBe(1)
  })

  it('says spool, still ready, while anything is spooled or Kafka is away, as long as the spool has room', async () => {
    expect(await readiness({ entries: 3, usedBytes: 300, up: true }).check()).toMatchObject({ ready: true, delivering: 'spool', kafka: 'connected' })
    expect(await readiness({ mode: 'spooling', up: false }).check()).toMatchObject({ ready: true, delivering: 'spool', kafka: 'unreachable' })
    expect(await readiness({ kafkaState: 'unreachable', probe: false }).check()).toMatchObject({ ready: true, delivering: 'spool', kafka: 'unreachable' })
    // Before Kafka was ever reached: the spool takes everything.
    expect(await readiness({ prepared: false }).check()).toMatchObject({ ready: true, delivering: 'spool', kafka: 'unreachable' })
  })

  it('is not ready when the spool is full and Kafka is not taking its backlog', async () => {
    expect(await readiness({ mode: 'spooling', entries: 9, usedBytes: 1_000, up: false }).check()).toEqual({
      ready: false,
      delivering: 'none',
      detail: 'the spool is full and Kafka is not taking its backlog',
      kafka: 'unreachable',
      spool: { entries: 9, bytes: 1_000, usedBytes: 1_000, maxBytes: 1_000 },
    })
    // Full, but Kafka answers and nothing waits: events go straight to Kafka.
    expect(await readiness({ usedBytes: 1_000 }).check()).toMatchObject({ ready: true, delivering: 'kafka' })
  })

  it('shows why the spool is held, with the time it started', async () => {
    const since = new Date('2026-11-26T10:00:00Z')
    const held = await readiness({ entries: 2, usedBytes: 200, up: true, blocked: { reason: 'kafka_authorization', message: 'Kafka denied producing', since } }).check()
    expect(held).toMatchObject({ ready: true, delivering: 'spool', blocked: { reason: 'kafka_authorization', message: 'Kafka denied producing', since: '2026-11-26T10:00:00.000Z' } })
  })

  it('is not ready (503) while the registry refuses a subject, naming it, its reason and what to run; events still go to the spool', async () => {
    const refused = new Map([['dv2000.hospitality-value', 'the schema registry refused: registering a schema for dv2000.hospitality-value: HTTP 409 incompatible']])
    const answer = await readiness({ mode: 'spooling', entries: 4, usedBytes: 400, up: true, refused }).check()
    expect(answer).toMatchObject({ ready: false, delivering: 'spool', refusedSubjects: ['dv2000.hospitality-value'] })
    expect(answer.detail).toBe(`the schema registry refuses dv2000.hospitality-value (${refused.get('dv2000.hospitality-value')}): run hotel-kafka-bridge schemas check`)
  })
})
