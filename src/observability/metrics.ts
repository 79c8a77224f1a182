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
}

export function createMetrics(options: { defaultMetrics?: boolean } = {}): Metrics {
  const registry = new Registry()
  if (options.defaultMetrics !== false) collectDefaultMetrics({ register: registry, prefix: 'bridge_process_' })
  const registers = [registry]
  return {
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
    kafkaUp: new Gauge({ name: 'bridge_kafka_up', help: '1 when the last contact with Kafka succeeded.', registers }),
  }
}
