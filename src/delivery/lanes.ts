// Held lanes: one spool per held topic under spool.dir/held/<topic>/, each replayed on its own, so a hold waits alone.
import { readdir, rm } from 'node:fs/promises'
import { join } from 'node:path'
import type { Logger } from '../observability/logger.js'
import { createDrainer, type Drainer, type Failure } from './drainer.js'
import type { TopicHolds } from './holds.js'
import type { SpoolEntry } from './spool/frame.js'
import type { SpoolBudget } from './spool/budget.js'
import { createSpool, type Spool } from './spool/spool.js'

export const HELD_DIR = 'held'

export interface LanesOptions {
  /** The main spool's folder: lanes live in its held/ folder, under its lock. */
  dir: string
  /** spool.maxBytes, shared with the main spool. */
  budget: SpoolBudget
  holds: TopicHolds
  send: (entries: SpoolEntry[]) => Promise<void>
  setAside: (entries: SpoolEntry[], error: unknown) => Promise<string | void>
  classify: (error: unknown) => Failure
  onReplayed?: (records: number) => void
  logger: Logger
  maxBatchRecords: number
}

export interface Lanes {
  /** Opens the lanes a previous run left (an empty one is removed) and starts replaying them. */
  open(): Promise<void>
  /** The topic is held, or its lane still holds records: its records must join the lane. */
  wants(topic: string): boolean
  /** Appends entries (records of `topic` only) to its lane, fsynced, in order; opens the lane if need be. */
  append(topic: string, entries: SpoolEntry[]): Promise<void>
  /** A lane's hold was released elsewhere (the start-up checks): replay it now. */
  kick(topic: string): void
  /** Cuts the backoff of every lane whose topic is not held short (a stop drains them). */
  kickFlowing(): void
  /** Records waiting per topic. */
  waiting(): { topic: string; entries: number; bytes: number }[]
  /** Records waiting in lanes whose topic is not held: what a drain can still deliver. */
  readonly deliverable: number
  stop(waitMs: number): Promise<void>
  close(): Promise<void>
}

interface Lane {
  spool: Spool
  opened: Promise<void>
  drainer: Drainer
}

export function createLanes(options: LanesOptions): Lanes {
  const { holds, logger } = options
  const root = join(options.dir, HELD_DIR)
  const lanes = new Map<string, Lane>()

  function laneOf(topic: string): Lane {
    let lane = lanes.get(topic)
    if (lane !== undefined) return lane
    const spool = createSpool({ dir: join(root, topic), maxBytes: options.budget.maxBytes, budget: options.budget, logger, lock: false })
    const drainer = createDrainer({
      spool,
      send: options.send,
      setAside: options.setAside,
      classify: options.classify,
      onReplayed: options.onReplayed,
      onBlocked: (error) => (error === undefined ? holds.release(topic) : holds.hold(topic, error)),
      logger: logger.child({ lane: topic }),
      maxBatchRecords: options.maxBatchRecords,
      // A hold ends when an operator acts: trying every half minute is soon enough, and costs Kafka nothing.
      maxBackoffMs: 30_000,
    })
    lane = { spool, drainer, opened: spool.open() }
    lanes.set(topic, lane)
    return lane
  }

  return {
    async open() {
      const topics = await readdir(root).catch(() => [] as string[])
      for (const topic of topics) {
        const lane = laneOf(topic)
        await lane.opened
        if (lane.spool.entries === 0) {
          lanes.delete(topic)
          options.budget.remove(lane.spool)
          await lane.spool.close()
          await rm(join(root, topic), { recursive: true, force: true })
          continue
        }
        logger.info({ topic, entries: lane.spool.entries }, 'a held lane from a previous run: replaying it')
        lane.drainer.kick()
      }
    },
    wants(topic) {
      if (holds.get(topic) !== undefined) return true
      const lane = lanes.get(topic)
      return lane !== undefined && lane.spool.entries > 0
    },
    async append(topic, entries) {
      const lane = laneOf(topic)
      await lane.opened
      // Queued synchronously one after the other: the lane keeps their order.
      await Promise.all(entries.map((entry) => lane.spool.append(entry)))
      lane.drainer.kick()
    },
    kick(topic) {
      lanes.get(topic)?.drainer.kick()
    },
    kickFlowing() {
      for (const [topic, lane] of lanes) if (holds.get(topic) === undefined && lane.spool.entries > 0) lane.drainer.kick()
    },
    waiting() {
      return [...lanes].filter(([, lane]) => lane.spool.entries > 0).map(([topic, lane]) => ({ topic, entries: lane.spool.entries, bytes: lane.spool.bytes }))
    },
    get deliverable() {
      let n = 0
      for (const [topic, lane] of lanes) if (holds.get(topic) === undefined) n += lane.spool.entries
      return n
    },
    async stop(waitMs) {
      await Promise.all([...lanes.values()].map((lane) => lane.drainer.stop(waitMs)))
    },
    async close() {
      await Promise.all([...lanes.values()].map((lane) => lane.opened.then(() => lane.spool.close()).catch(() => undefined)))
    },
  }
}
