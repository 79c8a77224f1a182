// `hotel-kafka-bridge spool status`: what the spool holds, read from its folder (safe while the bridge runs).
import { readdir } from 'node:fs/promises'
import { join } from 'node:path'
import type { BridgeConfig } from '../config/schema.js'
import { listSegments, readCursor, scanSegment } from '../delivery/spool/segments.js'
import { REJECTED_DIR } from '../delivery/spool/set-aside.js'

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
  /** Segment damage found while reading (a write in progress shows here too while the bridge runs). */
  problems: string[]
}

export async function spoolStatus(config: BridgeConfig, now = Date.now()): Promise<SpoolStatus> {
  const dir = config.spool.dir
  const segments = await listSegments(dir)
  const cursor = await readCursor(dir)
  let entries = 0
  let records = 0
  let bytes = 0
  let oldest: number | undefined
  const problems: string[] = []
  for (const segment of segments) {
    if (cursor !== undefined && segment.seq < cursor.seq) continue
    const from = cursor !== undefined && segment.seq === cursor.seq ? Math.min(cursor.offset, segment.size) : 0
    const scan = await scanSegment(segment.path, from, (entry) => {
      records += entry.records.length
    })
    entries += scan.entries
    bytes += scan.validEnd - from
    oldest ??= scan.receivedAtFirst
    if (scan.problem !== undefined) problems.push(`${segment.path} at byte ${scan.problem.offset}: ${scan.problem.reason}`)
  }
  const setAsideFiles = await readdir(join(dir, REJECTED_DIR)).then(
    (names) => names.filter((name) => name.endsWith('.frames')).length,
    () => 0,
  )
  return {
    dir,
    entries,
    records,
    bytes,
    segments: segments.length,
    oldestReceivedAt: oldest === undefined ? null : new Date(oldest).toISOString(),
    oldestAgeSeconds: oldest === undefined ? null : Math.round((now - oldest) / 1000),
    setAsideFiles,
    problems,
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
  if (status.setAsideFiles > 0) lines.push(`  set aside           ${status.setAsideFiles} file(s) in rejected/: Kafka refused them for good`)
  for (const problem of status.problems) lines.push(`  problem             ${problem}`)
  return `${lines.join('\n')}\n`
}
