// `deadletter replay` and `spool rejected [--replay]`: options read and checked, one line per item, a summary, exit codes.
import { rename, writeFile } from 'node:fs/promises'
import type { BridgeConfig } from '../config/schema.js'
import pino from 'pino'
import { createLogger, type Logger } from '../observability/logger.js'
import { createReplayMetrics } from '../observability/metrics.js'
import { replayDeadLetters } from '../replay/dead-letters.js'
import { formatRejected, listRejected, replayRejected } from '../replay/rejected.js'
import { UsageError } from './usage.js'

export const DEADLETTER_REPLAY_HELP = `Usage: hotel-kafka-bridge deadletter replay --config FILE [--source ID] [--since ISO] [--until ISO]
                                         [--event-id ID ...] [--dry-run] [--metrics-file FILE]

Reads the dead-letter topic (bridge.deadletter behind the config's topicPrefix, or a source's override) and
runs each selected dead letter's body through its source's current parser and config: what parses now is
produced to its topics with the dead letter's event_id and received_at (a Servio batch keeps it as batch_id),
plus a header replayed_from=<topic>/<partition>/<offset>. Use it after fixing a source's config, or after an
upgrade that reads a sender quirk the old version refused.

  --source ID       only this source's dead letters
  --since ISO       only those received at or after this time (e.g. 2026-11-26T08:00:00Z)
  --until ISO       only those received before this time
                    (found through Kafka's offsets for times, so the topic is not scanned: the span read
                    reaches an hour past --until, for dead letters that waited in the spool through a
                    Kafka outage; one that waited longer is found without --until)
  --event-id ID     only this dead letter (the event_id of its 400 answer); may be given several times
  --dry-run         print what would be replayed; produce nothing
  --metrics-file F  write bridge_replayed_total{kind="deadletter"} and bridge_replay_refused_total to F
                    (Prometheus text format, for node_exporter's textfile collector)

Prints one line per selected dead letter:
  replayed <event_id> -> <topic> (<n> records)
  still refused <event_id>: <reason>
  skipped <event_id>: <reason>          (the source's filters leave nothing of it)
then a summary. Exit 0 when every selected dead letter was replayed (or skipped), 1 when some are still
refused or Kafka or the registry failed, 2 for usage errors.

Replaying is at-least-once, as everywhere in the bridge: replaying the same dead letter twice produces its
records twice, with the same event_id (derived ids for a batch's records are the same each time), so
consumers that drop duplicates by event_id see it once. The dead letters themselves stay on their topic.
`

export const SPOOL_REJECTED_HELP = `Usage: hotel-kafka-bridge spool rejected --config FILE [--replay] [--json] [--metrics-file FILE]

Lists what the bridge set aside in spool.dir/rejected/: records Kafka refused for good (a record over a topic's
max.message.bytes, say), kept so that they neither block the spool nor get lost: file, records, topics and the
reason Kafka gave.

  --replay          produce them again (after fixing the cause, e.g. raising the topic's max.message.bytes),
                    with their original event_id, received_at and a header replayed_from=rejected/<file>;
                    a file is removed only once every record of it is acknowledged. Safe while the bridge
                    runs; one --replay at a time per spool folder.
  --json            the list as JSON
  --metrics-file F  with --replay: write bridge_replayed_total{kind="rejected"} and
                    bridge_replay_refused_total to F (Prometheus text format)

Exit 0 when nothing is left refused (or, without --replay, always); 1 when a file is still refused or Kafka
failed; 2 for usage errors. A replay is at-least-once: a file that fails half-way is produced whole next time.
`

/** A point in time the operator wrote: ISO 8601 with a date, and a zone unless it is a date alone. */
export function parseInstant(option: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined
  const dateOnly = /^\d{4}-\d\d-\d\d$/.test(text)
  const withZone = /^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:?\d\d)$/i.test(text)
  const ms = Date.parse(text)
  if ((!dateOnly && !withZone) || Number.isNaN(ms)) {
    throw new UsageError(`${option} ${JSON.stringify(text)}: expected an ISO 8601 time with its zone, e.g. 2026-11-26T08:00:00Z (or a date, read as UTC)`)
  }
  return ms
}


/** The command's own lines go to stdout; log lines (warnings and worse, unless the config asks for more) to stderr. */
function commandLogger(config: BridgeConfig): Logger {
  return createLogger(config.log.level === 'info' ? 'warn' : config.log.level, pino.destination(2))
}

async function writeMetrics(file: string | undefined, metrics: ReturnType<typeof createReplayMetrics>): Promise<void> {
  if (file === undefined) return
  // Whole or not at all: the collector may read it at any moment.
  await writeFile(`${file}.tmp`, await metrics.registry.metrics())
  await rename(`${file}.tmp`, file)
}

const plural = (n: number, noun: string): string => `${n} ${noun}${n === 1 ? '' : 's'}`

export interface DeadletterReplayArgs {
  source?: string | undefined
  since?: string | undefined
  until?: string | undefined
  eventIds?: string[] | undefined
  dryRun: boolean
  metricsFile?: string | undefined
}

export async function deadletterReplay(config: BridgeConfig, args: DeadletterReplayArgs, out: (text: string) => void = (t) => process.stdout.write(t)): Promise<number> {
  const sinceMs = parseInstant('--since', args.since)
  const untilMs = parseInstant('--until', args.until)
  if (sinceMs !== undefined && untilMs !== undefined && sinceMs >= untilMs) throw new UsageError('--since must be before --until')
  if (args.source !== undefined && !config.sources.some((s) => s.id === args.source)) {
    throw new UsageError(`--source ${args.source}: no such source in the config (it has ${config.sources.map((s) => s.id).join(', ')})`)
  }
  const logger = commandLogger(config)
  const metrics = createReplayMetrics()
  const summary = await replayDeadLetters(
    config,
    { source: args.source, sinceMs, untilMs, eventIds: args.eventIds, dryRun: args.dryRun },
    { logger, print: (line) => out(`${line}\n`) },
  )
  if (!args.dryRun) {
    metrics.replayed.inc({ kind: 'deadletter' }, summary.records)
    metrics.refused.inc({ kind: 'deadletter' }, summary.refused)
    await writeMetrics(args.metricsFile, metrics)
  }
  const verb = args.dryRun ? 'would be replayed' : 'replayed'
  out(
    `${plural(summary.selected, 'dead letter')} selected (${summary.read} read): ${summary.replayed} ${verb}` +
      `${args.dryRun ? '' : ` (${plural(summary.records, 'record')})`}, ${summary.skipped} skipped, ${summary.refused} still refused\n`,
  )
  return summary.refused > 0 ? 1 : 0
}

export async function spoolRejected(
  config: BridgeConfig,
  args: { replay: boolean; json: boolean; metricsFile?: string | undefined },
  out: (text: string) => void = (t) => process.stdout.write(t),
): Promise<number> {
  if (!args.replay) {
    const list = await listRejected(config)
    out(args.json ? `${JSON.stringify(list)}\n` : formatRejected(list))
    return 0
  }
  const logger = commandLogger(config)
  const metrics = createReplayMetrics()
  const summary = await replayRejected(config, { logger, print: (line) => out(`${line}\n`) })
  metrics.replayed.inc({ kind: 'rejected' }, summary.records)
  metrics.refused.inc({ kind: 'rejected' }, summary.refused)
  await writeMetrics(args.metricsFile, metrics)
  out(`${plural(summary.files, 'file')}: ${summary.replayed} replayed (${plural(summary.records, 'record')}), ${summary.refused} still refused\n`)
  return summary.refused > 0 ? 1 : 0
}
