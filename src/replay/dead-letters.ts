// `deadletter replay`: each selected dead letter's body through its source's current parser and config, produced to
// its topics with the dead letter's event_id and received_at, and a replayed_from header naming where it was kept.
import { createHash } from 'node:crypto'
import { loadSchemaFiles, type LoadedSchema } from '../avro/schemas.js'
import { encodeBody } from '../avro/encoder.js'
import { createRegistryHttp, readRegistryTls } from '../avro/registry-http.js'
import { createWireDecoder } from '../avro/wire-decoder.js'
import type { BridgeConfig, SourceConfig } from '../config/schema.js'
import { DEAD_LETTER_TOPIC } from '../dead-letter.js'
import { createKafkaClient } from '../delivery/kafka/index.js'
import { ErrorCodes, isBridgeError } from '../errors.js'
import type { Logger } from '../observability/logger.js'
import { finalTopic, plannedTopics } from '../pipeline.js'
import type { SchemaName } from '../records.js'
import { builtInSources, type SourceRegistry } from '../sources/index.js'
import { readRange } from './topic-range.js'
import { createReplayWriter, type ReplayRecord, type ReplayWriter } from './writer.js'

/** A dead letter as read back (dead_letter v1 has no user_agent). */
export interface DeadLetter {
  event_id: string
  source: string
  source_type: string
  received_at: number
  reason: string
  content_type: string | null
  remote_address: string | null
  body: Buffer
  user_agent?: string | null
}

export type Plan =
  | { kind: 'replay'; records: ReplayRecord[]; topics: string[] }
  | { kind: 'skipped'; reason: string }
  | { kind: 'refused'; reason: string }

/**
 * Ids for a replay: the first one a sender asks for is the dead letter's own event_id (a DV2000 event's id, a Servio
 * batch's batch_id: what the 400 answer named); the others are derived from it, so replaying twice gives the same ids.
 */
export function replayIds(eventId: string): () => string {
  let n = 0
  return () => {
    if (n++ === 0) return eventId
    const hash = createHash('sha256').update(`${eventId}/${n - 1}`).digest()
    // A UUID in form (version 8, "custom"; RFC 9562), from the hash: stable, and as unique as the dead letter's id.
    hash[6] = (hash[6]! & 0x0f) | 0x80
    hash[8] = (hash[8]! & 0x3f) | 0x80
    const hex = hash.subarray(0, 16).toString('hex')
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`
  }
}

/** What a dead letter becomes under today's parser and config; `replayedFrom` goes into every record's headers. */
export function planReplay(
  letter: DeadLetter,
  replayedFrom: string,
  config: BridgeConfig,
  sources: SourceRegistry,
  schemas: ReadonlyMap<SchemaName, LoadedSchema>,
): Plan {
  const source: SourceConfig | undefined = config.sources.find((s) => s.id === letter.source)
  if (source === undefined) return { kind: 'refused', reason: `source "${letter.source}" is not in the config` }
  // The source's type as configured now: a sender posting to a source set up with the wrong type is fixed in the
  // config, and its dead letters are then read by the right parser.
  const component = sources.componentFor(source)
  if (component === undefined) return { kind: 'refused', reason: `no sender of type ${source.type}` }
  let result
  try {
    result = component.ingest(letter.body, {
      source,
      receivedAt: new Date(letter.received_at),
      userAgent: letter.user_agent ?? undefined,
      newId: replayIds(letter.event_id),
    })
  } catch (error) {
    const reason = isBridgeError(error) && error.code === ErrorCodes.BAD_INPUT ? error.message : `the parser failed: ${(error as Error).message}`
    return { kind: 'refused', reason }
  }
  if (result.kind === 'filtered') return { kind: 'skipped', reason: result.reason }
  const records = result.records.map((record) => {
    const schema = schemas.get(record.schema)!
    return {
      topic: finalTopic(config, source, record.topic),
      key: record.key,
      headers: { ...record.headers, replayed_from: replayedFrom },
      schemaText: schema.text,
      body: encodeBody(schema.type, record.value),
    }
  })
  return { kind: 'replay', records, topics: [...new Set(records.map((r) => r.topic))] }
}

export interface DeadLetterSelection {
  /** Only this source's dead letters (and only its dead-letter topic is read). */
  source?: string | undefined
  /** received_at at or after (epoch ms). */
  sinceMs?: number | undefined
  /** received_at before (epoch ms). */
  untilMs?: number | undefined
  eventIds?: readonly string[] | undefined
  dryRun: boolean
}

export interface ReplaySummary {
  /** Records read from the dead-letter topics: the span the selection's times give, not the whole topic. */
  read: number
  selected: number
  replayed: number
  skipped: number
  refused: number
  records: number
}

function selected(letter: DeadLetter, selection: DeadLetterSelection): boolean {
  if (selection.source !== undefined && letter.source !== selection.source) return false
  if (selection.sinceMs !== undefined && letter.received_at < selection.sinceMs) return false
  if (selection.untilMs !== undefined && letter.received_at >= selection.untilMs) return false
  if (selection.eventIds !== undefined && selection.eventIds.length > 0 && !selection.eventIds.includes(letter.event_id)) return false
  return true
}

/** The dead-letter topics the configured sources write (one unless a source overrides it), for `--source` or all. */
export function deadLetterTopics(config: BridgeConfig, source?: string): string[] {
  const sources = config.sources.filter((s) => source === undefined || s.id === source)
  return [...new Set(sources.map((s) => finalTopic(config, s, DEAD_LETTER_TOPIC)))]
}

export interface ReplayDeps {
  logger: Logger
  /** One line per dead letter, then the summary: the command's output. */
  print: (line: string) => void
  sources?: SourceRegistry
  /** Produces the records (default: the bridge's Kafka edge and registry). */
  writer?: ReplayWriter
}

export async function replayDeadLetters(config: BridgeConfig, selection: DeadLetterSelection, deps: ReplayDeps): Promise<ReplaySummary> {
  const sources = deps.sources ?? builtInSources
  const schemas = loadSchemaFiles(sources.schemaFiles)
  const http = createRegistryHttp({ ...config.schemaRegistry, tls: readRegistryTls(config.schemaRegistry) })
  const decoder = createWireDecoder(http)
  const kafka = createKafkaClient(config, deps.logger, '-replay')
  const summary: ReplaySummary = { read: 0, selected: 0, replayed: 0, skipped: 0, refused: 0, records: 0 }
  let writer: ReplayWriter | undefined
  let prepared = false
  try {
    for (const topic of deadLetterTopics(config, selection.source)) {
      const read = await readRange(kafka, config, topic, selection, async (message) => {
        if (message.value === null) return
        // The key is the source id: other sources' dead letters are passed over undecoded.
        if (selection.source !== undefined && message.key !== null && message.key.toString('utf8') !== selection.source) return
        const letter = (await decoder.decode(message.value)) as unknown as DeadLetter
        if (!selected(letter, selection)) return
        summary.selected++
        const plan = planReplay(letter, `${message.topic}/${message.partition}/${message.offset}`, config, sources, schemas)
        if (plan.kind === 'refused') {
          summary.refused++
          return deps.print(`still refused ${letter.event_id}: ${plan.reason}`)
        }
        if (plan.kind === 'skipped') {
          summary.skipped++
          return deps.print(`skipped ${letter.event_id}: ${plan.reason}`)
        }
        const where = `${plan.topics.length === 0 ? 'nothing' : plan.topics.join(', ')} (${plan.records.length} record${plan.records.length === 1 ? '' : 's'})`
        if (selection.dryRun) {
          summary.replayed++
          return deps.print(`would replay ${letter.event_id} -> ${where}`)
        }
        writer ??= deps.writer ?? createReplayWriter(config, deps.logger)
        if (!prepared) {
          await writer.prepare(plannedTopics(config, sources).map((p) => p.topic))
          prepared = true
        }
        await writer.send(plan.records)
        summary.replayed++
        summary.records += plan.records.length
        deps.print(`replayed ${letter.event_id} -> ${where}`)
      })
      if (read === undefined) deps.logger.info({ topic }, 'no dead-letter topic by this name: nothing to replay from it')
      summary.read += read ?? 0
    }
  } finally {
    await writer?.close()
  }
  return summary
}
