// `spool rejected`: what was set aside (records Kafka refused for good), and with --replay, produced again once an operator
// fixed the cause, each file removed only when every record of it is acknowledged.
import { basename, join } from 'node:path'
import { loadSchemaFiles } from '../avro/schemas.js'
import type { BridgeConfig } from '../config/schema.js'
import { lockFile } from '../delivery/spool/lock.js'
import { createSchemaTexts } from '../delivery/spool/schema-texts.js'
import { ensureDir } from '../delivery/spool/ensure-dir.js'
import { readSetAside, REJECTED_DIR, removeSetAside, type SetAsideFile } from '../delivery/spool/set-aside.js'
import { isBridgeError } from '../errors.js'
import type { Logger } from '../observability/logger.js'
import { builtInSources, type SourceRegistry } from '../sources/index.js'
import { createReplayWriter, type ReplayRecord, type ReplayWriter } from './writer.js'

export interface RejectedListing {
  file: string
  records: number
  topics: string[]
  reason: string | null
  code: string | null
  setAsideAt: string | null
  /** Part of the file could not be read (damage): what could is counted. */
  problem: string | null
}

function listing(file: SetAsideFile): RejectedListing {
  const records = file.entries.flatMap((e) => e.records)
  return {
    file: file.file,
    records: records.length,
    topics: [...new Set(records.map((r) => r.topic))].sort(),
    reason: file.note?.reason ?? null,
    code: file.note?.code ?? null,
    setAsideAt: file.note?.setAsideAt ?? null,
    problem: file.problem ?? null,
  }
}

export async function listRejected(config: BridgeConfig): Promise<RejectedListing[]> {
  return (await readSetAside(config.spool.dir)).map(listing)
}

export function formatRejected(list: readonly RejectedListing[]): string {
  if (list.length === 0) return 'nothing set aside\n'
  const lines = list.map((l) =>
    [
      `${l.file}`,
      `  records  ${l.records} (${l.topics.join(', ')})`,
      `  reason   ${l.reason ?? 'not recorded (set aside before notes were kept)'}`,
      ...(l.setAsideAt === null ? [] : [`  since    ${l.setAsideAt}`]),
      ...(l.problem === null ? [] : [`  damaged  ${l.problem}`]),
    ].join('\n'),
  )
  return `${lines.join('\n')}\n`
}

export interface RejectedReplaySummary {
  files: number
  replayed: number
  refused: number
  records: number
}

export interface RejectedReplayDeps {
  logger: Logger
  print: (line: string) => void
  sources?: SourceRegistry
  writer?: ReplayWriter
}

/** Chunks of at most `size`: one produce call each. */
function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = []
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size))
  return out
}

export async function replayRejected(config: BridgeConfig, deps: RejectedReplayDeps): Promise<RejectedReplaySummary> {
  const spoolDir = config.spool.dir
  const dir = join(spoolDir, REJECTED_DIR)
  const summary: RejectedReplaySummary = { files: 0, replayed: 0, refused: 0, records: 0 }
  const files = await readSetAside(spoolDir)
  if (files.length === 0) return summary
  await ensureDir(dir)
  // Two replays of one folder at once would both produce every file: one at a time (a running bridge is no obstacle).
  const lock = await lockFile(join(dir, 'REPLAY-LOCK'), (pid) => `another spool rejected --replay${pid} is replaying ${dir}`)
  const texts = createSchemaTexts(spoolDir, [...loadSchemaFiles((deps.sources ?? builtInSources).schemaFiles).values()])
  let writer: ReplayWriter | undefined
  let prepared = false
  // Every topic of every file, created (when missing) by one prepare: not a connection and a topic listing per file.
  const topics = [...new Set(files.flatMap((f) => f.entries.flatMap((e) => e.records.map((r) => r.topic))))]
  try {
    for (const file of files) {
      summary.files++
      const name = basename(file.file)
      const records: ReplayRecord[] = []
      let missing: string | undefined
      for (const entry of file.entries) {
        for (const r of entry.records) {
          const schemaText = await texts.textOf(r.schema)
          if (schemaText === undefined) missing = r.schema
          else records.push({ topic: r.topic, key: r.key, headers: { ...r.headers, replayed_from: `${REJECTED_DIR}/${name}` }, schemaText, body: r.body })
        }
      }
      if (missing !== undefined || file.problem !== undefined) {
        summary.refused++
        deps.print(`still refused ${file.file}: ${missing !== undefined ? `the schema ${missing} of its records is missing from ${spoolDir}/schemas` : `damaged (${file.problem}); kept as it is`}`)
        continue
      }
      writer ??= deps.writer ?? createReplayWriter(config, deps.logger)
      try {
        if (!prepared) {
          await writer.prepare(topics)
          prepared = true
        }
        for (const part of chunks(records, config.kafka.maxBatchRecords)) await writer.send(part)
      } catch (error) {
        // An outage ends the run (the files stay); a refusal is this file's, and the next may go through.
        if (!isBridgeError(error) || error.retriable) throw error
        summary.refused++
        deps.print(`still refused ${file.file}: ${error.message}`)
        continue
      }
      await removeSetAside(file.file)
      summary.replayed++
      summary.records += records.length
      deps.print(`replayed ${file.file} (${records.length} record${records.length === 1 ? '' : 's'})`)
    }
  } finally {
    await writer?.close()
    await lock.release()
  }
  return summary
}

