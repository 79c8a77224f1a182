// Reaching Kafka at start-up: retried until it answers (logged once, then a reminder); then each topic and its subject, a failing one held alone.
import { afterEach, describe, expect, it, vi } from 'vitest'
import { createTopicHolds } from '../../../src/delivery/holds.js'
import { createPreparation } from '../../../src/delivery/preparation.js'
import { BridgeError, ErrorCodes } from '../../../src/errors.js'
import { capturingLogger } from './spool-fixtures.js'

afterEach(() => vi.useRealTimers())

const away = (): BridgeError => new BridgeError(ErrorCodes.KAFKA_UNAVAILABLE, 'connection refused', { retriable: true })

interface Behaviour {
  /** Connection attempts that fail before one succeeds. */
  failures?: number
  /** Per topic: what preparing it throws, as long as it does. */
  topicError?: Record<string, () => BridgeError | undefined>
  subjectError?: Record<string, () => BridgeError | undefined>
  /** The topics planned (default t1, t2, t3): a reload changes them. */
  planned?: () => string[]
}

function preparation(behaviour: Behaviour = {}) {
  let clock = 0
  let connects = 0
  const preparedTopics: string[] = []
  const registered: string[] = []
  let reachable = 0
  const { logger, lines } = capturingLogger()
  const holds = createTopicHolds({ logger })
  const p = createPreparation({
    kafka: {
      connect: async () => {
        if (++connects <= (behaviour.failures ?? 0)) throw away()
      },
      prepareTopic: async (topic) => {
        const error = behaviour.topicError?.[topic]?.()
        if (error !== undefined) throw error
        preparedTopics.push(topic)
        return topic === 't1' ? 'created' : 'exists'
      },
    },
    schemaIds: {
      verify: async (subject) => {
        const error = behaviour.subjectError?.[subject]?.()
        if (error !== undefined) throw error
        registered.push(subject)
        return 1
      },
    },
    holds,
    planned: () => (behaviour.planned?.() ?? ['t1', 't2', 't3']).map((topic) => ({ topic, schemaText: '"string"' })),
    partitions: 3,
    retryMs: 2_000,
    recheckMs: 30_000,
    logger,
    onReachable: () => reachable++,
    spooled: () => 7,
    now: () => clock,
  })
  return { p, holds, connects: () => connects, preparedTopics, registered, lines, reachable: () => reachable, advance: (ms: number) => (clock += ms) }
}

describe('preparation', () => {
  it('checks the topics a reload adds, once each, and only those; before Kafka is first reached the first check takes them', async () => {
    let topics = ['t1', 't2']
    const { p, preparedTopics, registered, lines } = preparation({ planned: () => topics })
    topics = ['t1', 't2', 't4']
    // Not reached yet: it waits for the first check, which takes t4 with the others.
    let added = false
    const waiting = p.prepareAdded().then(() => (added = true))
    await Promise.resolve()
    expect(added).toBe(false)
    p.start()
    await waiting
    expect(preparedTopics).toEqual(['t1', 't2', 't4'])
    topics = ['t1', 't4', 't5', 't6']
    await p.prepareAdded()
    expect(preparedTopics).toEqual(['t1', 't2', 't4', 't5', 't6'])
    expect(registered.slice(3)).toEqual(['t5-value', 't6-value'])
    expect(lines.find((l) => l['msg'] === 'topics of the reloaded sources checked')).toMatchObject({ topics: 2, ready: 2, held: 0 })
    await p.prepareAdded()
    expect(preparedTopics).toHaveLength(5)
  })

  it('retries every retryMs until Kafka answers, says so once and then every minute, then prepares each topic and registers its schema', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] })
    const { p, connects, preparedTopics, registered, lines, reachable, advance } = preparation({ failures: 40 })
    let done = false
    void p.prepared.then(() => (done = true))
    p.start()
    for (let i = 0; i < 40; i++) {
      advance(2_000)
      await vi.advanceTimersByTimeAsync(2_000)
    }
    expect(done).toBe(true)
    expect(connects()).toBe(41)
    expect(preparedTopics).toEqual(['t1', 't2', 't3'])
    expect(reachable()).toBe(1)
    expect(registered).toEqual(['t1-value', 't2-value', 't3-value'])
    const messages = lines.map((l) => [l['level'], l['msg']])
    expect(messages.filter(([, m]) => m === 'Kafka is not reachable; accepting into the spool and retrying')).toEqual([['error', 'Kafka is not reachable; accepting into the spool and retrying']])
    // 80 s of retries: one reminder, at the minute.
    expect(lines.filter((l) => l['msg'] === 'Kafka still not reachable').map((l) => l['spooled'])).toEqual([7])
    expect(messages).toContainEqual(['info', 'Kafka reached'])
    expect(lines.find((l) => l['msg'] === 'created topics')?.['topics']).toEqual(['t1'])
    expect(lines.find((l) => l['msg'] === 'topics and schemas checked')).toMatchObject({ topics: 3, ready: 3, held: 0 })
  })

  it('holds only the topic that cannot be prepared or whose subject is refused, names each, and is ready for the others', async () => {
    const denied = new BridgeError(ErrorCodes.KAFKA_UNAUTHORIZED, 'Kafka denied creating topic t1 (TOPIC_AUTHORIZATION_FAILED)')
    const refused = new BridgeError(ErrorCodes.REGISTRY_REJECTED, 'the registry refuses the schema for t3-value: incompatible')
    const { p, holds, registered, lines, reachable } = preparation({ topicError: { t1: () => denied }, subjectError: { 't3-value': () => refused } })
    p.start()
    await p.prepared
    expect(reachable()).toBe(1)
    expect(holds.list().map((h) => [h.topic, h.reason])).toEqual([
      ['t1', 'authorization'],
      ['t3', 'registry_refused'],
    ])
    expect(registered).toEqual(['t2-value'])
    const held = lines.filter((l) => l['level'] === 'error' && String(l['msg']).startsWith('topic '))
    expect(held.map((l) => [l['topic'], l['reason']])).toEqual([
      ['t1', 'authorization'],
      ['t3', 'registry_refused'],
    ])
    expect(String(held[0]!['msg'])).toContain('(authorization)')
    expect(String(held[1]!['msg'])).toContain('(subject refused)')
    expect(lines.find((l) => l['msg'] === 'topics and schemas checked')).toMatchObject({ ready: 1, held: 2 })
  })

  it('checks a held topic again every recheckMs and releases it once it passes', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] })
    let missing = true
    const gone = (): BridgeError | undefined => (missing ? new BridgeError(ErrorCodes.KAFKA_TOPIC_MISSING, 'topic t2 does not exist and topics.create is off') : undefined)
    const { p, holds, lines } = preparation({ topicError: { t2: gone } })
    p.start()
    await vi.advanceTimersByTimeAsync(0)
    await p.prepared
    expect(holds.get('t2')?.reason).toBe('topic_missing')
    await vi.advanceTimersByTimeAsync(30_000)
    expect(holds.get('t2')?.reason).toBe('topic_missing')
    missing = false
    await vi.advanceTimersByTimeAsync(30_000)
    expect(holds.get('t2')).toBeUndefined()
    expect(lines.filter((l) => l['msg'] === 'topic t2 flows again')).toHaveLength(1)
    p.stop()
  })

  it('is prepared when the registry is away: ids are fetched again on first use, nothing is held', async () => {
    const down = (): BridgeError => new BridgeError(ErrorCodes.REGISTRY_UNAVAILABLE, 'registry unreachable', { retriable: true })
    const { p, holds, lines, reachable } = preparation({ subjectError: { 't1-value': down, 't2-value': down, 't3-value': down } })
    p.start()
    await p.prepared
    expect(holds.list()).toEqual([])
    expect(lines.filter((l) => l['msg'] === 'could not register the schema at start-up; will retry on first use')).toHaveLength(3)
    expect(reachable()).toBe(1)
    p.stop()
  })

  it('stops retrying once stopped', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] })
    const { p, connects } = preparation({ failures: 1_000 })
    p.start()
    await vi.advanceTimersByTimeAsync(0)
    p.stop()
    await vi.advanceTimersByTimeAsync(60_000)
    expect(connects()).toBe(1)
  })

  it('warns at start-up about each partition with fewer in-sync replicas than its min.insync.replicas', async () => {
    const { logger, lines } = capturingLogger()
    const p = createPreparation({
      kafka: { connect: async () => undefined, prepareTopic: async () => 'exists', underReplicated: async (topics) => topics.map((topic) => ({ topic, partition: 0, inSync: 1, minInSync: 2 })) },
      schemaIds: { verify: async () => 1 },
      holds: createTopicHolds({ logger }),
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
    p.stop()
  })
})
