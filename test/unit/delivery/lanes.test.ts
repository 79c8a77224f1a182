// Held lanes on disk: a held topic's records wait in held/<topic>/, replay in order once released, and survive a restart.
import { readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { afterEach, expect, it } from 'vitest'
import { createTopicHolds } from '../../../src/delivery/holds.js'
import { createLanes, type Lanes, type LanesOptions } from '../../../src/delivery/lanes.js'
import { createSpoolBudget } from '../../../src/delivery/spool/budget.js'
import type { SpoolEntry } from '../../../src/delivery/spool/frame.js'
import { BridgeError, ErrorCodes } from '../../../src/errors.js'
import { entry, idsOf, silent, tempDirs } from './spool-fixtures.js'

const dirs = tempDirs()
const opened: Lanes[] = []
afterEach(async () => {
  for (const lanes of opened.splice(0)) {
    await lanes.stop(1_000)
    await lanes.close()
  }
  await dirs.cleanup()
})

const denied = new BridgeError(ErrorCodes.KAFKA_UNAUTHORIZED, 'Kafka denied producing (TOPIC_AUTHORIZATION_FAILED)')
const guests = (n: number): SpoolEntry => ({ ...entry(n), records: [{ ...entry(n).records[0]!, topic: 'servio.guests' }] })

function lanesOn(dir: string, send: LanesOptions['send']) {
  const holds = createTopicHolds({ logger: silent(), onChange: (topic, hold) => hold === undefined && lanes.kick(topic) })
  const lanes = createLanes({
    dir,
    budget: createSpoolBudget(1 << 24),
    holds,
    send,
    setAside: async () => undefined,
    classify: (error) => (error === denied ? { kind: 'blocked' } : { kind: 'retry' }),
    logger: silent(),
    maxBatchRecords: 10,
  })
  opened.push(lanes)
  return { lanes, holds }
}

async function until(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 10_000
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
}

it('keeps a held topic\'s records in order until the refusal ends, then replays them; a restart finds a lane left behind', async () => {
  const dir = await dirs.make('lanes-')
  let allowed = false
  const sent: string[] = []
  const send = async (entries: SpoolEntry[]): Promise<void> => {
    if (!allowed) throw denied
    sent.push(...idsOf(entries))
  }
  const first = lanesOn(dir, send)
  await first.lanes.open()
  expect(first.lanes.wants('servio.guests')).toBe(false)
  first.holds.hold('servio.guests', denied)
  expect(first.lanes.wants('servio.guests')).toBe(true)
  await first.lanes.append('servio.guests', [guests(0), guests(1)])
  await first.lanes.append('servio.guests', [guests(2)])
  expect(first.lanes.waiting()).toEqual([{ topic: 'servio.guests', entries: 3, bytes: expect.any(Number) as number }])
  expect(first.lanes.deliverable).toBe(0)
  expect(await readdir(join(dir, 'held'))).toEqual(['servio.guests'])
  await first.lanes.stop(1_000)
  await first.lanes.close()
  opened.splice(0)

  // A restart: the lane is found and replayed; still refused, so it stays, and so does the hold the refusal makes.
  const second = lanesOn(dir, send)
  await second.lanes.open()
  await until(() => second.holds.get('servio.guests') !== undefined, 'the lane\'s first attempt to hold the topic')
  expect(sent).toEqual([])
  allowed = true
  second.holds.release('servio.guests')
  await until(() => sent.length === 3, 'the lane to drain')
  expect(sent).toEqual(['e-0', 'e-1', 'e-2'])
  expect(second.lanes.wants('servio.guests')).toBe(false)
  await second.lanes.stop(1_000)
  await second.lanes.close()
  opened.splice(0)

  // An empty lane is removed at the next start.
  const third = lanesOn(dir, send)
  await third.lanes.open()
  expect(await readdir(join(dir, 'held'))).toEqual([])
})
