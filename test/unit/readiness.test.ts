// /readyz's answers: delivering to Kafka, spooling with room, full, a spool that cannot write, held topics.
import { describe, expect, it } from 'vitest'
import type { Hold } from '../../src/delivery/holds.js'
import type { KafkaState } from '../../src/delivery/kafka/index.js'
import { createReadiness } from '../../src/readiness.js'

function readiness(state: {
  entries?: number
  usedBytes?: number
  prepared?: boolean
  kafkaState?: KafkaState
  probe?: boolean
  /** Kafka's last answer (default: it answered). */
  up?: boolean
  held?: Hold[]
  waiting?: { topic: string; entries: number }[]
  writeError?: { message: string; at: Date }
  refused?: Map<string, string>
}) {
  let probes = 0
  const check = createReadiness({
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
    kafkaUp: () => state.up ?? true,
    producing: () => state.up ?? true,
    held: () => state.held ?? [],
    waiting: () => state.waiting ?? [],
    spoolWriteError: () => state.writeError,
    refusedSubjects: () => state.refused ?? new Map(),
  })
  return { check, probes: () => probes }
}

const EMPTY_SPOOL = { entries: 0, bytes: 0, usedBytes: 0, maxBytes: 1_000, writable: true }

describe('readiness', () => {
  it('says kafka when nothing is spooled and Kafka is connected, probing only when the connection is in doubt', async () => {
    const connected = readiness({})
    expect(await connected.check()).toEqual({ ready: true, delivering: 'kafka', kafka: 'connected', held: [], spool: EMPTY_SPOOL })
    expect(connected.probes()).toBe(0)
    const reconnecting = readiness({ kafkaState: 'unreachable', probe: true })
    expect(await reconnecting.check()).toMatchObject({ ready: true, delivering: 'kafka', kafka: 'connected' })
    expect(reconnecting.probes()).toBe(1)
  })

  it('says spool, still ready, while anything is spooled or Kafka is away, as long as the spool has room', async () => {
    expect(await readiness({ entries: 3, usedBytes: 300 }).check()).toMatchObject({ ready: true, delivering: 'spool', kafka: 'connected' })
    expect(await readiness({ up: false }).check()).toMatchObject({ ready: true, delivering: 'spool', kafka: 'unreachable' })
    expect(await readiness({ kafkaState: 'unreachable', probe: false }).check()).toMatchObject({ ready: true, delivering: 'spool', kafka: 'unreachable' })
    // Before Kafka was ever reached: the spool takes everything.
    expect(await readiness({ prepared: false, up: false }).check()).toMatchObject({ ready: true, delivering: 'spool', kafka: 'unreachable' })
  })

  it('is not ready when the spool is full and Kafka is not taking its backlog', async () => {
    expect(await readiness({ entries: 9, usedBytes: 1_000, up: false }).check()).toEqual({
      ready: false,
      delivering: 'none',
      detail: 'the spool is full and Kafka is not taking its backlog',
      kafka: 'unreachable',
      held: [],
      spool: { entries: 9, bytes: 1_000, usedBytes: 1_000, maxBytes: 1_000, writable: false },
    })
    // Full, but Kafka answers and nothing waits: events go straight to Kafka.
    expect(await readiness({ usedBytes: 1_000 }).check()).toMatchObject({ ready: true, delivering: 'kafka' })
  })

  it('reports a spool that cannot write: ready while Kafka answers (events go there), not ready when Kafka does not either', async () => {
    const writeError = { message: 'the spool could not write to /var/spool: ENOSPC', at: new Date('2026-12-01T10:00:00Z') }
    expect(await readiness({ writeError }).check()).toMatchObject({
      ready: true,
      delivering: 'kafka',
      spool: { writable: false, lastWriteError: { message: writeError.message, at: '2026-12-01T10:00:00.000Z' } },
    })
    expect(await readiness({ writeError, entries: 2, usedBytes: 200 }).check()).toMatchObject({ ready: true, delivering: 'kafka', spool: { writable: false } })
    const neither = await readiness({ writeError, up: false }).check()
    expect(neither).toMatchObject({ ready: false, delivering: 'none', spool: { writable: false } })
    expect(neither.detail).toContain('ENOSPC')
  })

  it('lists each held topic with its reason, since when, and what waits in its lane; the rest is ready', async () => {
    const since = new Date('2026-11-26T10:00:00Z')
    const held: Hold[] = [{ topic: 'h7.servio.guests', reason: 'authorization', message: 'Kafka denied producing (TOPIC_AUTHORIZATION_FAILED)', since }]
    expect(await readiness({ held, waiting: [{ topic: 'h7.servio.guests', entries: 12 }] }).check()).toMatchObject({
      ready: true,
      delivering: 'kafka',
      held: [{ topic: 'h7.servio.guests', reason: 'authorization', message: 'Kafka denied producing (TOPIC_AUTHORIZATION_FAILED)', since: '2026-11-26T10:00:00.000Z', entries: 12 }],
    })
  })

  it('is not ready (503) while the registry refuses a subject, naming it, its reason and what to run; events still go to the spool', async () => {
    const refused = new Map([['dv2000.hospitality-value', 'the schema registry refused: registering a schema for dv2000.hospitality-value: HTTP 409 incompatible']])
    const answer = await readiness({ entries: 4, usedBytes: 400, refused }).check()
    expect(answer).toMatchObject({ ready: false, delivering: 'spool', refusedSubjects: ['dv2000.hospitality-value'] })
    expect(answer.detail).toBe(`the schema registry refuses dv2000.hospitality-value (${refused.get('dv2000.hospitality-value')}): run hotel-kafka-bridge schemas check`)
  })
})
