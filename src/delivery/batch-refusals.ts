// What a refused replay batch holds: records Kafka refuses for good (found by halving) and topics held for an operator (found topic by topic).
import type { SpoolEntry } from './spool/frame.js'

/** One record of a batch: which entry it came from, so that what is set aside or moved keeps its entry's time. */
export interface Unit {
  entry: SpoolEntry
  index: number
}

export type Failure = { kind: 'final' } | { kind: 'blocked' } | { kind: 'retry' }

export interface BatchSender {
  send(entries: SpoolEntry[]): Promise<void>
  /** `final`: those records will never be taken; `blocked`: not until an operator acts; `retry`: an outage. */
  classify(error: unknown): Failure
}

export interface Refused {
  units: Unit[]
  error: unknown
}

/** Signals that a send failed for another reason than the one being searched: the whole batch is retried later. */
export class OtherFailure extends Error {
  constructor(readonly error: unknown) {
    super('another failure')
  }
}

export const unitsOf = (entries: readonly SpoolEntry[]): Unit[] => entries.flatMap((entry) => entry.records.map((_, index) => ({ entry, index })))

export const topicOf = (unit: Unit): string => unit.entry.records[unit.index]!.topic

/** Units back into entries (consecutive units of one entry share one), in order. */
export function toEntries(units: readonly Unit[]): SpoolEntry[] {
  const out: SpoolEntry[] = []
  let last: SpoolEntry | undefined
  let current: SpoolEntry | undefined
  for (const { entry, index } of units) {
    if (entry !== last) {
      current = { receivedAt: entry.receivedAt, records: [] }
      out.push(current)
      last = entry
    }
    current!.records.push(entry.records[index]!)
  }
  return out
}

/**
 * The records of a batch Kafka refused for good, found by halving it: every half that goes through is delivered,
 * in order, before the next; a single record refused for good is what is left. Another kind of failure on the way
 * (an outage) stops the search with OtherFailure: the whole batch is retried (duplicates, never loss).
 */
export async function refusedRecords(units: readonly Unit[], error: unknown, sender: BatchSender): Promise<Refused> {
  if (units.length === 1) return { units: [...units], error }
  const middle = units.length >> 1
  const refused: Unit[] = []
  let reason = error
  for (const half of [units.slice(0, middle), units.slice(middle)]) {
    try {
      await sender.send(toEntries(half))
    } catch (halfError) {
      if (sender.classify(halfError).kind !== 'final') throw new OtherFailure(halfError)
      const found = await refusedRecords(half, halfError, sender)
      refused.push(...found.units)
      reason = found.error
    }
  }
  return { units: refused, error: reason }
}

/**
 * A batch refused by a hold (an ACL, a missing topic, a refused subject) is sent again topic by topic, in order of
 * first appearance: the topics that go through are delivered, those refused for good bisected, and those held
 * returned with their refusal. An outage on the way stops it with OtherFailure.
 */
export async function splitByTopic(units: readonly Unit[], sender: BatchSender): Promise<{ held: Map<string, Refused>; refused: Refused[] }> {
  const byTopic = new Map<string, Unit[]>()
  for (const unit of units) {
    const topic = topicOf(unit)
    let list = byTopic.get(topic)
    if (list === undefined) byTopic.set(topic, (list = []))
    list.push(unit)
  }
  const held = new Map<string, Refused>()
  const refused: Refused[] = []
  for (const [topic, group] of byTopic) {
    try {
      await sender.send(toEntries(group))
    } catch (error) {
      const kind = sender.classify(error).kind
      if (kind === 'blocked') held.set(topic, { units: group, error })
      else if (kind === 'final') refused.push(await refusedRecords(group, error, sender))
      else throw new OtherFailure(error)
    }
  }
  return { held, refused }
}
