// Prometheus metrics of the bridge, on a registry of its own (so tests can build many apps in one process).
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client'

export type RequestOutcome =
  | 'produced'
  | 'spooled'
  | 'filtered'
  | 'rejected'
  | 'unknown_source'
  | 'unauthorized'
  | 'forbidden'
  | 'too_large'
  | 'rate_limited'
  | 'unavailable'

export interface SpoolReading {
  entries: number
  bytes: number
  /** Entries waiting in each held topic's lane. */
  held?: { topic: string; entries: number }[]
  /** When the main spool's oldest entry was received (epoch ms), read from disk at a scrape; undefined when empty. */
  oldestReceivedAt?: () => Promise<number | undefined>
}

export interface Metrics {
  registry: Registry
  requests: Counter<'source' | 'outcome'>
  requestSeconds: Histogram<'source_type'>
  records: Counter<'topic'>
  batches: Counter<'result'>
  batchRecords: Histogram
  batchSeconds: Histogram
  unconvertible: Counter<'source'>
  kafkaUp: Gauge
  heldEntries: Gauge<'topic'>
  spoolEntries: Gauge
  spoolBytes: Gauge
  spoolOldestAge: Gauge
  /** spool.maxBytes, set once: alerts divide bridge_spool_bytes by it. */
  spoolMaxBytes: Gauge
  replayed: Counter
  /** Records replayed, by kind: spool (serve's drainer), deadletter and rejected (the replay commands). */
  replays: Counter<'kind'>
  sourceLastEvent: Gauge<'source'>
  sourceSilent: Gauge<'source'>
  configReloads: Counter<'result'>
  configLastReload: Gauge
  deadLetters: Counter<'source'>
  /** 1 per topic held for an operator, with the reason (authorization, topic_missing, registry_refused). */
  topicHeld: Gauge<'topic' | 'reason'>
  /** Spool writes that failed, by reason (full, io). */
  spoolWriteFailures: Counter<'reason'>
  /** Connections closed unanswered under overload, by reason (max_connections, busy). */
  connectionsRefused: Counter<'reason'>
  schemaRefused: Gauge<'subject'>
  /** Where the spool gauges read from at each scrape. */
  observeSpool(read: () => SpoolReading): void
}

export function createMetrics(options: { defaultMetrics?: boolean } = {}): Metrics {
  const registry = new Registry()
  if (options.defaultMetrics !== false) collectDefaultMetrics({ register: registry, prefix: 'bridge_process_' })
  const registers = [registry]
  let readSpool = (): SpoolReading => ({ entries: 0, bytes: 0 })
  return {
    observeSpool(read) {
      readSpool = read
    },
    registry,
    requests: new Counter({
      name: 'bridge_requests_total',
      help: 'Ingest requests by source and outcome (produced, spooled, filtered, rejected, unknown_source, unauthorized, forbidden, too_large, rate_limited, unavailable).',
      labelNames: ['source', 'outcome'],
      registers,
    }),
    requestSeconds: new Histogram({
      name: 'bridge_request_duration_seconds',
      help: 'Time from request to answer for ingest requests.',
      labelNames: ['source_type'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
    records: new Counter({ name: 'bridge_records_produced_total', help: 'Records acknowledged by Kafka, by topic.', labelNames: ['topic'], registers }),
    batches: new Counter({ name: 'bridge_produce_calls_total', help: 'Produce calls to Kafka by result (ok, error).', labelNames: ['result'], registers }),
    batchRecords: new Histogram({
      name: 'bridge_produce_call_records',
      help: 'Records per produce call: how well concurrent requests share calls.',
      buckets: [1, 2, 5, 10, 25, 50, 100, 250, 1000, 5000, 20000],
      registers,
    }),
    batchSeconds: new Histogram({
      name: 'bridge_produce_call_duration_seconds',
      help: 'Duration of one produce call until acks=all.',
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
    unconvertible: new Counter({
      name: 'bridge_fields_untyped_total',
      help: 'Documented fields whose value could not be typed (kept only in the raw JSON), by source.',
      labelNames: ['source'],
      registers,
    }),
    kafkaUp: new Gauge({ name: 'bridge_kafka_up', help: '1 when Kafka answered the last produce call, or the metadata probe sent when the bridge is idle.', registers }),
    spoolEntries: new Gauge({
      name: 'bridge_spool_entries',
      help: 'Requests held in the local spool, not yet on Kafka.',
      registers,
      collect() {
        this.set(readSpool().entries)
      },
    }),
    spoolBytes: new Gauge({
      name: 'bridge_spool_bytes',
      help: 'Bytes of undelivered entries in the local spool.',
      registers,
      collect() {
        this.set(readSpool().bytes)
      },
    }),
    spoolOldestAge: new Gauge({
      name: 'bridge_spool_oldest_entry_age_seconds',
      help: 'How long the oldest entry of the main spool has waited for Kafka (0 when it is empty); held topics have bridge_topic_held_entries.',
      registers,
      async collect() {
        const oldest = await readSpool()
          .oldestReceivedAt?.()
          .catch(() => undefined)
        this.set(oldest === undefined ? 0 : Math.max(0, (Date.now() - oldest) / 1000))
      },
    }),
    spoolMaxBytes: new Gauge({ name: 'bridge_spool_max_bytes', help: 'spool.maxBytes: what the spool (with its held topics) may hold.', registers }),
    replayed: new Counter({ name: 'bridge_spool_replayed_records_total', help: 'Records replayed from the spool to Kafka.', registers }),
    replays: replayedCounter(registers),
    sourceLastEvent: new Gauge({ name: 'bridge_source_last_event_timestamp_seconds', help: 'When each source last sent an authenticated request (filtered ones included).', labelNames: ['source'], registers }),
    sourceSilent: new Gauge({ name: 'bridge_source_silent', help: '1 while a source with silentAfter has sent nothing for that long.', labelNames: ['source'], registers }),
    configReloads: new Counter({ name: 'bridge_config_reloads_total', help: 'Reloads of the configuration (SIGHUP or a watched file), by result: ok, invalid (it did not validate), refused (it changed what only a restart can).', labelNames: ['result'], registers }),
    configLastReload: new Gauge({ name: 'bridge_config_last_reload_success_timestamp_seconds', help: 'When the running configuration was loaded: the start, or the last successful reload.', registers }),
    deadLetters: new Counter({
      name: 'bridge_deadletter_records_total',
      help: 'Bodies refused (400) and kept as dead letters (delivered or spooled), by source.',
      labelNames: ['source'],
      registers,
    }),
    schemaRefused: new Gauge({
      name: 'bridge_schema_refused',
      help: '1 while the schema registry refuses the schema the bridge writes to a subject (events wait in the spool).',
      labelNames: ['subject'],
      registers,
    }),
    topicHeld: new Gauge({
      name: 'bridge_topic_held',
      help: '1 while a topic is held for an operator (its events wait in the spool, every other topic flows), by topic and reason (authorization, topic_missing, registry_refused).',
      labelNames: ['topic', 'reason'],
      registers,
    }),
    heldEntries: new Gauge({
      name: 'bridge_topic_held_entries',
      help: "Requests waiting in a held topic's lane of the spool, by topic.",
      labelNames: ['topic'],
      registers,
      collect() {
        this.reset()
        for (const lane of readSpool().held ?? []) this.set({ topic: lane.topic }, lane.entries)
      },
    }),
    connectionsRefused: new Counter({
      name: 'bridge_http_connections_refused_total',
      help: 'Connections closed as soon as accepted, unanswered: more load than this process takes (reason: max_connections, busy).',
      labelNames: ['reason'],
      registers,
    }),
    spoolWriteFailures: new Counter({
      name: 'bridge_spool_write_failures_total',
      help: 'Spool writes that failed, by reason (full: spool.maxBytes reached; io: the disk refused it). Such an event is tried on Kafka, else answered 503.',
      labelNames: ['reason'],
      registers,
    }),
  }
}

function replayedCounter(registers: Registry[]): Counter<'kind'> {
  return new Counter({
    name: 'bridge_replayed_total',
    help: 'Records replayed to Kafka and acknowledged, by kind: spool (by serve), deadletter and rejected (by the deadletter replay and spool rejected --replay commands, written to their --metrics-file).',
    labelNames: ['kind'],
    registers,
  })
}

/**
 * The replay commands' metrics, for node_exporter's textfile collector (a batch job has no /metrics to scrape):
 * bridge_replayed_total{kind} and bridge_replay_refused_total{kind}, written to a file once the command ends.
 */
export function createReplayMetrics(): { registry: Registry; replayed: Counter<'kind'>; refused: Counter<'kind'> } {
  const registry = new Registry()
  return {
    registry,
    replayed: replayedCounter([registry]),
    refused: new Counter({
      name: 'bridge_replay_refused_total',
      help: 'Dead letters or set-aside files a replay command found still refused, by kind (deadletter, rejected).',
      labelNames: ['kind'],
      registers: [registry],
    }),
  }
}
