// Reaching Kafka at start-up: retried until it answers (logged once, then a reminder), then the schemas registered.
import { afterEach, describe, expect, it, vi } from 'vitest'
import { createPreparation } from '../../../src/delivery/preparation.js'
import { BridgeError, ErrorCodes } from '../../../src/errors.js'
import { capturingLogger } from './spool-fixtures.js'

afterEach(() => vi.useRealTimers())

const away = (): BridgeError => new BridgeError(ErrorCodes.KAFKA_UNAVAILABLE, 'connection refused', { retriable: true })

function preparation(failures: number, options: { registry?: 'ok' | 'refuses' } = {}) {
  let clock = 0
  const prepared: string[][] = []
  const registered: string[] = []
  let reachable = 0
  const { logger, lines } = capturingLogger()
  const p = createPreparation({
    kafka: {
      prepare: async (topics) => {
        prepared.push([...topics])
        if (prepared.length <= failures) throw away()
        return ['t1']
      },
    },
    schemaIds: {
      verify: async (subject) => {
        if (options.registry === 'refuses') throw new BridgeError(ErrorCodes.REGISTRY_REJECTED, 'incompatible')
        registered.push(subject)
        return 1
      },
    },
    planned: () => [
      { topic: 't1', schemaText: '"string"' },
      { topic: 't2', schemaText: '"string"' },
    ],
    partitions: 3,
    retryMs: 2_000,
    logger,
    onReachable: () => reachable++,
    spooled: () => 7,
    now: () => clock,
  })
  return { p, prepared, registered, lines, reachable: () => reachable, advance: (ms: number) => (clock += ms) }
}

describe('preparation', () => {
  it('retries every retryMs until Kafka answers, says so once and then every minute, and then registers each topic\'s schema', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] })
    const { p, prepared, registered, lines, reachable, advance } = preparation(40)
    let done = false
    void p.prepared.then(() => (done = true))
    p.start()
    for (let i = 0; i < 40; i++) {
      advance(2_000)
      await vi.advanceTimersByTimeAsync(2_000)
    }
    expect(done).toBe(true)
    expect(prepared).toHaveLength(41)
    expect(prepared[0]).toEqual(['t1', 't2'])
    expect(reachable()).toBe(1)
    expect(registered).toEqual(['t1-value', 't2-value'])
    const messages = lines.map((l) => [l['level'], l['msg']])
    expect(messages.filter(([, m]) => m === 'Kafka is not reachable; accepting into the spool and retrying')).toEqual([['error', 'Kafka is not reachable; accepting into the spool and retrying']])
    // 80 s of retries: one reminder, at the minute.
    expect(lines.filter((l) => l['msg'] === 'Kafka still not reachable').map((l) => l['spooled'])).toEqual([7])
    expect(messages).toContainEqual(['info', 'Kafka reached'])
    expect(messages).toContainEqual(['info', 'created topics'])
    expect(messages).toContainEqual(['info', 'topics and schemas ready'])
  })

  it('is prepared even when the registry refuses: ids are fetched again on first use', async () => {
    const { p, lines, reachable } = preparation(0, { registry: 'refuses' })
    p.start()
    await p.prepared
    await vi.waitFor(() => expect(lines.some((l) => l['msg'] === 'could not register every schema at start-up; will retry on first use')).toBe(true))
    expect(reachable()).toBe(1)
  })

  it('stops retrying once stopped', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] })
    const { p, prepared } = preparation(1_000)
    p.start()
    await vi.advanceTimersByTimeAsync(0)
    p.stop()
    await vi.advanceTimersByTimeAsync(60_000)
    expect(prepared).toHaveLength(1)
  })

  it('warns at start-up about each partition with fewer in-sync replicas than its min.insync.replicas', async () => {
    const { logger, lines } = capturingLogger()
    const p = createPreparation({
      kafka: { prepare: async () => [], underReplicated: async (topics) => topics.map((topic) => ({ topic, partition: 0, inSync: 1, minInSync: 2 })) },
      schemaIds: { verify: async () => 1 },
      planned: () => [{ topic: 't1', schemaText: '"string"' }],
      partitions: 3,
      retryMs: 2_000,
      logger,
      onReachable: () => undefined,
      spooled: () => 0,
    })
    p.start()
    await p.prepared
    await vi.waitFor(() => expect(lines.filter((l) => l['level'] === 'warn').map((l) => [l['topic'], l['inSync'], l['minInSync']])).toEqual([['t1', 1, 2]]))
  })
})
