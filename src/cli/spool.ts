// `hotel-kafka-bridge spool status`: what the spool and its held lanes hold, read from their folders (safe while the bridge runs).
import { readdir } from 'node:fs/promises'
import { join } from 'node:path'
import type { BridgeConfig } from '../config/schema.js'
import { HELD_DIR } from '../delivery/lanes.js'
import { listSegments, readCursor, scanSegment } from '../delivery/spool/segments.js'
import { REJECTED_DIR } from '../delivery/spool/set-aside.js'

/** What one spool folder (the main one, or a held topic's lane) holds. */
interface FolderScan {
  entries: number
  records: number
  bytes: number
  segments: number
  oldest: number | undefined
  problems: string[]
}

export interface SpoolStatus {
  dir: string
  entries: number
  records: number
  bytes: number
  segments: number
  oldestReceivedAt: string | null
  oldestAgeSeconds: number | null
  /** Entries Kafka refused for good, kept in rejected/. */
  setAsideFiles: number
  /** FolderScan topics' lanes (held/<topic>/) with something in them. */
  lanes: { topic: string; entries: number; records: number; bytes: number; oldestReceivedAt: string | null }[]
  /** Segment damage found while reading (a write in progress shows here too while the bridge runs). */
  problems: string[]
}

async function scanFolder(dir: string): Promise<FolderScan> {
  const segments = await listSegments(dir)
  const cursor = await readCursor(dir)
  const found: FolderScan = { entries: 0, records: 0, bytes: 0, segments: segments.length, oldest: undefined, problems: [] }
  for (const segment of segments) {
    if (cursor !== undefined && segment.seq < cursor.seq) continue
    const from = cursor !== undefined && segment.seq === cursor.seq ? Math.min(cursor.offset, segment.size) : 0
    const scan = await scanSegment(segment.path, from, (entry) => {
      found.records += entry.records.length
    })
    found.entries += scan.entries
    found.bytes += scan.validEnd - from
    found.oldest ??= scan.receivedAtFirst
    if (scan.problem !== undefined) found.problems.push(`${segment.path} at byte ${scan.problem.offset}: ${scan.problem.reason}`)
  }
  return found
}

const iso = (ms: number | undefined): string | null => (ms === undefined ? null : new Date(ms).toISOString())

export async function spoolStatus(config: BridgeConfig, now = Date.now()): Promise<SpoolStatus> {
  const dir = config.spool.dir
  const main = await scanFolder(dir)
  const lanes: SpoolStatus['lanes'] = []
  for (const topic of (await readdir(join(dir, HELD_DIR)).catch(() => [] as string[])).sort()) {
    const lane = await scanFolder(join(dir, HELD_DIR, topic))
    main.problems.push(...lane.problems)
    if (lane.entries > 0) lanes.push({ topic, entries: lane.entries, records: lane.records, bytes: lane.bytes, oldestReceivedAt: iso(lane.oldest) })
  }
  const setAsideFiles = await readdir(join(dir, REJECTED_DIR)).then(
    (names) => names.filter((name) => name.endsWith('.frames')).length,
    () => 0,
  )
  return {
    dir,
    entries: main.entries,
    records: main.records,
    bytes: main.bytes,
    segments: main.segments,
    oldestReceivedAt: iso(main.oldest),
    oldestAgeSeconds: main.oldest === undefined ? null : Math.round((now - main.oldest) / 1000),
    setAsideFiles,
    lanes,
    problems: main.problems,
  }
}

export function formatSpoolStatus(status: SpoolStatus): string {
  const lines = [
    `spool ${status.dir}`,
    `  entries (requests)  ${status.entries}`,
    `  records             ${status.records}`,
    `  bytes               ${status.bytes}`,
    `  segments            ${status.segments}`,
    `  oldest entry        ${status.oldestReceivedAt === null ? '-' : `${status.oldestReceivedAt} (${status.oldestAgeSeconds} s ago)`}`,
  ]
  for (const lane of status.lanes) lines.push(`  held topic          ${lane.topic}: ${lane.entries} entries (${lane.records} records, ${lane.bytes} bytes) since ${lane.oldestReceivedAt}`)
  if (status.setAsideFiles > 0) lines.push(`  set aside           ${status.setAsideFiles} file(s) in rejected/: Kafka refused them for good`)
  for (const problem of status.problems) lines.push(`  problem             ${problem}`)
  return `${lines.join('\n')}\n`
}
