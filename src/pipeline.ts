// One request's way through the bridge: source component → records (or a dead letter) → Avro → delivery.
import { randomUUID } from 'node:crypto'
import type { LoadedSchema } from './avro/schemas.js'
import { encodeBody } from './avro/encoder.js'
import type { BridgeConfig, SourceConfig } from './config/schema.js'
import { DEAD_LETTER_SCHEMA, DEAD_LETTER_TOPIC, deadLetterRecord } from './dead-letter.js'
import type { PreparedRecord, RecordSink } from './delivery/types.js'
import { BridgeError, ErrorCodes, isBridgeError } from './errors.js'
import type { Logger } from './observability/logger.js'
import type { Metrics } from './observability/metrics.js'
import type { BridgeRecord, SchemaName } from './records.js'
import { builtInSources, type SourceRegistry } from './sources/index.js'

export { DEAD_LETTER_TOPIC } from './dead-letter.js'

export interface IngestRequest {
  body: Buffer
  contentType: string | undefined
  remoteAddress: string | undefined
  receivedAt: Date
  userAgent?: string | undefined
  /** The request's logger: the lines about this event carry its request id (default: the pipeline's). */
  log?: Logger | undefined
}

export type IngestOutcome =
  | { status: 'produced' | 'spooled'; eventId: string; batchId?: string | undefined; records: number }
  | { status: 'filtered'; eventId: string; reason: string }
  /** Refused as malformed (`rejected`) or as more records than one request may be (`too_many`); `stored` says where its dead letter went. */
  | { status: 'rejected'; eventId: string; reason: string; stored: 'delivered' | 'spooled' }
  | { status: 'too_many'; eventId: string; reason: string; stored: 'delivered' | 'spooled' }

export interface PipelineDeps {
  config: BridgeConfig
  schemas: ReadonlyMap<SchemaName, LoadedSchema>
  sink: RecordSink
  logger: Logger
  metrics: Metrics
  /** The senders (default: the built-in ones). */
  sources?: SourceRegistry
  newId?: () => string
}

export interface Pipeline {
  ingest(source: SourceConfig, request: IngestRequest): Promise<IngestOutcome>
}

/** A default topic as the source writes it: its override, if any, behind the configured prefix. */
export function finalTopic(config: BridgeConfig, source: SourceConfig, defaultTopic: string): string {
  return config.topicPrefix + (source.topics?.[defaultTopic] ?? defaultTopic)
}

/** Every (final topic, schema) pair the configured sources may produce: created and registered at start-up. */
export function plannedTopics(config: BridgeConfig, registry: SourceRegistry = builtInSources): { topic: string; schema: SchemaName }[] {
  const planned = new Map<string, SchemaName>()
  for (const source of config.sources) {
    const component = registry.componentFor(source)
    if (component === undefined) continue
    for (const topic of component.topics(source)) planned.set(finalTopic(config, source, topic), component.schema)
    planned.set(finalTopic(config, source, DEAD_LETTER_TOPIC), DEAD_LETTER_SCHEMA.name)
  }
  return [...planned].map(([topic, schema]) => ({ topic, schema }))
}

/** A `topics` override naming a topic its source never writes would silently do nothing: refused at start-up and reload. */
export function checkTopicOverrides(sources: readonly SourceConfig[], registry: SourceRegistry): void {
  const problems: string[] = []
  sources.forEach((source, index) => {
    const component = registry.componentFor(source)
    if (component === undefined || source.topics === undefined) return
    const produced = [...component.topics(source), DEAD_LETTER_TOPIC]
    for (const key of Object.keys(source.topics)) {
      if (!produced.includes(key)) problems.push(`  - sources[${index}].topics["${key}"]: source "${source.id}" never writes this topic; it writes ${produced.join(', ')}`)
    }
  })
  if (problems.length > 0) throw new BridgeError(ErrorCodes.CONFIG_INVALID, `config is invalid:\n${problems.join('\n')}`)
}

/** Records encoded between two turns of the event loop: about 2 ms of work. */
const ENCODE_CHUNK = 1_000

export function createPipeline(deps: PipelineDeps): Pipeline {
  const { config, schemas, sink, logger, metrics } = deps
  const newId = deps.newId ?? randomUUID
  const registry = deps.sources ?? builtInSources
  checkTopicOverrides(config.sources, registry)

  const topicFor = (source: SourceConfig, defaultTopic: string): string => finalTopic(config, source, defaultTopic)

  function encode(source: SourceConfig, records: readonly BridgeRecord[], from = 0, to = records.length): PreparedRecord[] {
    const out: PreparedRecord[] = new Array(to - from)
    for (let i = from; i < to; i++) {
      const record = records[i]!
      const schema = schemas.get(record.schema)!
      out[i - from] = { topic: topicFor(source, record.topic), key: record.key, headers: { ...record.headers }, schema, body: encodeBody(schema.type, record.value) }
    }
    return out
  }

  /** A large batch is encoded a chunk at a time, the event loop turning between chunks: other requests are not held. */
  async function encodeYielding(source: SourceConfig, records: readonly BridgeRecord[]): Promise<PreparedRecord[]> {
    if (records.length <= ENCODE_CHUNK) return encode(source, records)
    const out: PreparedRecord[] = []
    for (let from = 0; from < records.length; from += ENCODE_CHUNK) {
      if (from > 0) await new Promise((resolve) => setImmediate(resolve))
      out.push(...encode(source, records, from, Math.min(records.length, from + ENCODE_CHUNK)))
    }
    return out
  }

  /** The request's own logger when it has one: its lines then carry the request id. */
  const logOf = (request: IngestRequest): Logger => request.log ?? logger

  /** Delivers or spools; an event that could not be stored is logged here, with its id (STYLE 7), and rethrown. */
  async function store(source: SourceConfig, records: readonly PreparedRecord[], request: IngestRequest, eventId: string) {
    try {
      return await sink.deliver(records, request.receivedAt)
    } catch (error) {
      logOf(request).error(
        { err: error, event_id: eventId, source: source.id, records: records.length, code: isBridgeError(error) ? error.code : undefined },
        'event not stored: neither Kafka nor the spool took it',
      )
      throw error
    }
  }

  /**
   * The raw body to the dead letter, answered 400. A bug of ours (a parser that throws, a record its own schema
   * refuses) must not cost the event either: it goes there too, to be replayed once fixed (deadletter replay).
   */
  async function refuse(source: SourceConfig, request: IngestRequest, error: unknown, eventId = newId()): Promise<IngestOutcome> {
    const code = isBridgeError(error) ? error.code : undefined
    const ours = code !== ErrorCodes.BAD_INPUT && code !== ErrorCodes.TOO_MANY_RECORDS
    const reason = ours ? `the bridge failed to read this body: ${(error as Error).message}` : (error as Error).message
    const log = logOf(request)
    if (ours) log.error({ err: error, event_id: eventId, source: source.id }, 'the bridge could not turn this body into records (a bug of ours); body dead-lettered')
    const letter = deadLetterRecord(source, request, eventId, reason)
    const stored = await store(source, encode(source, [letter]), request, eventId)
    metrics.deadLetters.inc({ source: source.id })
    log.warn({ event_id: eventId, source: source.id, reason, bytes: request.body.length, stored }, 'body refused; raw body kept for the dead letter topic')
    return code === ErrorCodes.TOO_MANY_RECORDS ? { status: 'too_many', eventId, reason, stored } : { status: 'rejected', eventId, reason, stored }
  }

  return {
    async ingest(source, request) {
      const component = registry.componentFor(source)
      if (component === undefined) throw new BridgeError(ErrorCodes.UNKNOWN_SOURCE, `no component for source type ${source.type}`)
      let result
      let prepared: PreparedRecord[]
      try {
        result = component.ingest(request.body, { source, receivedAt: request.receivedAt, userAgent: request.userAgent, newId, maxRecords: config.http.maxRecordsPerRequest })
        if (result.kind === 'filtered') return { status: 'filtered', eventId: result.eventId, reason: result.reason }
        prepared = await encodeYielding(source, result.records)
      } catch (error) {
        return refuse(source, request, error)
      }
      if (result.warnings !== undefined && result.warnings.length > 0) {
        metrics.unconvertible.inc({ source: source.id }, result.warnings.length)
        logOf(request).warn({ event_id: result.eventId, source: source.id, warnings: result.warnings }, 'accepted with fields that could not be typed')
      }
      const stored = await store(source, prepared, request, result.eventId)
      return { status: stored === 'delivered' ? 'produced' : 'spooled', eventId: result.eventId, batchId: result.batchId, records: result.records.length }
    },
  }
}
