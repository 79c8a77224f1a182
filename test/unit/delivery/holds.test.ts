// Held topics: which refusals hold a topic, one log line per topic and reason (then a reminder a minute), release.
import { expect, it } from 'vitest'
import { createTopicHolds, type Hold } from '../../../src/delivery/holds.js'
import { BridgeError, ErrorCodes } from '../../../src/errors.js'
import { capturingLogger } from './spool-fixtures.js'

const denied = (): BridgeError => new BridgeError(ErrorCodes.KAFKA_UNAUTHORIZED, 'Kafka denied producing 1 record(s) (TOPIC_AUTHORIZATION_FAILED)')
const refused = (): BridgeError => new BridgeError(ErrorCodes.REGISTRY_REJECTED, 'the registry refuses the schema')

it('holds a topic for a refusal only an operator can fix, logs it once per topic and reason (a reminder a minute), and releases it', () => {
  let clock = 0
  const { logger, lines } = capturingLogger()
  const changes: [string, Hold | undefined][] = []
  const holds = createTopicHolds({ logger, now: () => clock, onChange: (topic, hold) => changes.push([topic, hold]) })

  // An outage is not a hold.
  expect(holds.hold('t1', new BridgeError(ErrorCodes.KAFKA_UNAVAILABLE, 'away', { retriable: true }))).toBe(false)
  expect(holds.hold('t1', new BridgeError(ErrorCodes.KAFKA_REJECTED, 'too large'))).toBe(false)
  expect(holds.list()).toEqual([])

  for (let i = 0; i < 5; i++) expect(holds.hold('t1', denied())).toBe(true)
  clock += 30_000
  holds.hold('t1', denied())
  clock += 30_000
  holds.hold('t1', denied())
  holds.hold('t2', refused())
  expect(holds.list().map((h) => [h.topic, h.reason, h.since.getTime()])).toEqual([
    ['t1', 'authorization', 0],
    ['t2', 'registry_refused', 60_000],
  ])
  const held = lines.filter((l) => l['level'] === 'error').map((l) => [l['topic'], l['reason'], l['msg']])
  expect(held).toEqual([
    [
      't1',
      'authorization',
      "topic t1 is held: Kafka denies the bridge's principal this topic (authorization): Kafka denied producing 1 record(s) (TOPIC_AUTHORIZATION_FAILED); its events wait in the spool, in order, until that is fixed; every other topic flows",
    ],
    ['t1', 'authorization', expect.stringContaining('topic t1 is held')],
    ['t2', 'registry_refused', expect.stringContaining("the schema registry refuses the topic's schema (subject refused)")],
  ])

  holds.release('t1')
  holds.release('t1')
  expect(holds.get('t1')).toBeUndefined()
  expect(lines.filter((l) => l['msg'] === 'topic t1 flows again')).toHaveLength(1)
  expect(changes.map(([topic, hold]) => [topic, hold?.reason])).toEqual([
    ['t1', 'authorization'],
    ['t2', 'registry_refused'],
    ['t1', undefined],
  ])
})
