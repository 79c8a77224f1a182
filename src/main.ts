#!/usr/bin/env node
// Command line: parses argv and dispatches to cli/.
import { parseArgs } from 'node:util'
import { ASYNCAPI_HELP, asyncApi } from './cli/asyncapi.js'
import { health } from './cli/health.js'
import { deadletterReplay, DEADLETTER_REPLAY_HELP, SPOOL_REJECTED_HELP, spoolRejected } from './cli/replay.js'
import { exitCodeOf, UsageError } from './cli/usage.js'
import { dropKafkajsTimeoutWarning } from './cli/warnings.js'
import { schemasCheck, schemasList, schemasRegister } from './cli/schemas.js'
import { serve } from './cli/serve.js'
import { formatSources, listSources, senderUrl } from './cli/sources.js'
import { formatSpoolStatus, spoolStatus } from './cli/spool.js'
import { tail } from './cli/tail.js'
import { loadConfig } from './config/load.js'
import { envVariableNames } from './config/env.js'

const USAGE = `Usage: hotel-kafka-bridge <command> [options]

Commands:
  serve --config FILE     run the bridge (FILE may also come from BRIDGE_CONFIG)
  tail TOPIC --config FILE [--from-beginning] [--max N] [--timeout SECONDS]
                          print a topic's records as JSON lines, values decoded through the
                          schema registry (the config's topicPrefix is put in front of TOPIC)
  spool status --config FILE [--json]
                          entries, records, bytes and the age of the oldest entry in the spool
  spool rejected --config FILE [--replay] [--json]
                          records Kafka refused for good, set aside in the spool folder; --replay
                          produces them again once the cause is fixed (see spool rejected --help)
  deadletter replay --config FILE [--source ID] [--since ISO] [--until ISO] [--event-id ID ...] [--dry-run]
                          refused bodies from the dead-letter topic through today's parser and config,
                          to their topics (see deadletter replay --help)
  schemas list --config FILE [--json]
  schemas check --config FILE [--schemas DIR] [--offline]
  schemas register --config FILE [--schemas DIR]
                          the subjects the sources write, against the registry (see schemas check --help)
  sources list --config FILE [--json]
                          each source: id, type, path, how many secrets, filters, allow-list
  sources url ID --config FILE --base URL [--show-secret]
                          what to type into the sender for source ID (see sources url --help)
  asyncapi --config FILE [--out FILE] [--json]
                          the AsyncAPI 3 document of the topics the sources write: keys, Avro
                          payloads, headers, Kafka bindings (see asyncapi --help)
  health --config FILE [--ready] [--timeout SECONDS]
                          exit 0 when the bridge on this machine answers /healthz (or /readyz) with 200;
                          the container image's HEALTHCHECK
  help                    this text

Every config key can be overridden from the environment, e.g. BRIDGE_HTTP_PORT=9090;
a source's keys by its id, e.g. BRIDGE_SOURCES_FRONT_DESK_SECRETS=secret1,secret2.
Top-level variables: ${envVariableNames().join(', ')}
`

const SOURCES_URL_HELP = `Usage: hotel-kafka-bridge sources url ID --config FILE --base URL [--show-secret]

Prints exactly what to type into the sender of source ID, with URL the address the sender reaches the
bridge at (e.g. https://bridge.example.com):
  DV2000: the Events server's argument line, -url …/v1/dv2000/ID?token=… and -cat from the source's categories;
  Servio: the "Service address" of "Quick response to events".
The token is the source's newest secret (the last listed), masked unless --show-secret. Exit 0; 2 for an
unknown ID or a bad --base.
`

const COMMAND_HELP: Record<string, string> = {
  'asyncapi ': ASYNCAPI_HELP,
  'sources url': SOURCES_URL_HELP,
  'sources list': `Usage: hotel-kafka-bridge sources list --config FILE [--json]

Each configured source: id, type, the path it posts to, how many secrets (and their file), its sender's
options (DV2000 categories; Servio entities, actions, hotelId) and the addresses allowed. No secret is printed.
`,
  'deadletter replay': DEADLETTER_REPLAY_HELP,
  'deadletter ': DEADLETTER_REPLAY_HELP,
  'spool rejected': SPOOL_REJECTED_HELP,
  'schemas list': `Usage: hotel-kafka-bridge schemas list --config FILE [--schemas DIR] [--json]

For every subject the configured sources write (<topic>-value): the local schema's fingerprint, the
registry's latest version and id, the subject's compatibility level, and whether the local schema is
registered. Exit 0; 2 when the registry cannot be reached.
`,
  'schemas check': `Usage: hotel-kafka-bridge schemas check --config FILE [--schemas DIR] [--offline]

Checks, before a deploy, that every subject the configured sources write takes the local schema (the
package's schemas/, or DIR): through the registry's compatibility API under the subject's own level, or,
with --offline or when no registry answers, FULL_TRANSITIVE against every published version kept in
schemas/history/<name>/v<N>.avsc (DIR/history with --schemas).
Exit 0 when every subject is compatible; 1 when one is not, printing subject, field and reason
(e.g. "dv2000.hospitality-value: field service_name removed without a default"); 2 for usage errors, or
when the registry is unreachable and there is no history to check against.
`,
  'schemas register': `Usage: hotel-kafka-bridge schemas register --config FILE [--schemas DIR]

Registers the local schema of every subject the configured sources write (what serve does at start-up;
a new subject gets FULL_TRANSITIVE), printing subject, version and id. Exit 0; 1 when the registry refuses
a schema; 2 when it cannot be reached.
`,
}

async function main(argv: string[]): Promise<number> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      config: { type: 'string', short: 'c' },
      help: { type: 'boolean', short: 'h' },
      'from-beginning': { type: 'boolean' },
      max: { type: 'string' },
      timeout: { type: 'string' },
      json: { type: 'boolean' },
      ready: { type: 'boolean' },
      schemas: { type: 'string' },
      offline: { type: 'boolean' },
      source: { type: 'string' },
      since: { type: 'string' },
      until: { type: 'string' },
      'event-id': { type: 'string', multiple: true },
      'dry-run': { type: 'boolean' },
      replay: { type: 'boolean' },
      'metrics-file': { type: 'string' },
      base: { type: 'string' },
      'show-secret': { type: 'boolean' },
      out: { type: 'string', short: 'o' },
    },
  })
  const command = positionals[0] ?? 'help'
  if (values.help || command === 'help') {
    process.stdout.write(COMMAND_HELP[`${command} ${positionals[1] ?? ''}`] ?? USAGE)
    return 0
  }
  if (command === 'schemas') {
    const action = positionals[1]
    const run = action === 'list' ? schemasList : action === 'check' ? schemasCheck : action === 'register' ? schemasRegister : undefined
    if (run === undefined) {
      process.stderr.write(`usage: hotel-kafka-bridge schemas list|check|register --config FILE (see --help)\n`)
      return 2
    }
    const { config } = loadConfig(values.config ?? process.env['BRIDGE_CONFIG'], process.env)
    return run(config, { schemasDir: values.schemas, offline: values.offline === true, json: values.json === true })
  }
  if (command === 'serve') {
    await serve(values.config ?? process.env['BRIDGE_CONFIG'], process.env)
    return -1
  }
  if (command === 'tail') {
    const topic = positionals[1]
    if (topic === undefined) throw new UsageError('tail needs a TOPIC, e.g. tail dv2000.hospitality')
    const { config } = loadConfig(values.config ?? process.env['BRIDGE_CONFIG'], process.env)
    return tail(config, {
      topic,
      fromBeginning: values['from-beginning'] === true,
      max: values.max === undefined ? undefined : Number(values.max),
      timeoutMs: values.timeout === undefined ? undefined : Number(values.timeout) * 1000,
    })
  }
  if (command === 'sources') {
    const action = positionals[1]
    if (action !== 'list' && action !== 'url') throw new UsageError('usage: sources list|url --config FILE (see sources url --help)')
    const { config } = loadConfig(values.config ?? process.env['BRIDGE_CONFIG'], process.env)
    if (action === 'list') {
      const list = listSources(config)
      process.stdout.write(values.json === true ? `${JSON.stringify(list)}\n` : formatSources(list))
      return 0
    }
    const id = positionals[2]
    if (id === undefined) throw new UsageError('sources url needs a source ID, e.g. sources url front-desk --base https://bridge.example.com')
    const { setup, warning } = senderUrl(config, id, values.base, values['show-secret'] === true)
    process.stdout.write(`${setup}\n`)
    if (warning !== null) process.stderr.write(`warning: ${warning}\n`)
    return 0
  }
  if (command === 'asyncapi') {
    const { config } = loadConfig(values.config ?? process.env['BRIDGE_CONFIG'], process.env)
    return asyncApi(config, { out: values.out, json: values.json === true })
  }
  if (command === 'health') {
    const { config } = loadConfig(values.config ?? process.env['BRIDGE_CONFIG'], process.env)
    return health(config, { ready: values.ready === true, timeoutMs: values.timeout === undefined ? 3_000 : Number(values.timeout) * 1000 })
  }
  if (command === 'deadletter') {
    if (positionals[1] !== 'replay') throw new UsageError('usage: deadletter replay --config FILE [options] (see deadletter replay --help)')
    const { config } = loadConfig(values.config ?? process.env['BRIDGE_CONFIG'], process.env)
    return deadletterReplay(config, {
      source: values.source,
      since: values.since,
      until: values.until,
      eventIds: values['event-id'],
      dryRun: values['dry-run'] === true,
      metricsFile: values['metrics-file'],
    })
  }
  if (command === 'spool' && positionals[1] === 'rejected') {
    const { config } = loadConfig(values.config ?? process.env['BRIDGE_CONFIG'], process.env)
    return spoolRejected(config, { replay: values.replay === true, json: values.json === true, metricsFile: values['metrics-file'] })
  }
  if (command === 'spool') {
    if (positionals[1] !== 'status') throw new UsageError('usage: spool status|rejected --config FILE [--json] (see --help)')
    const { config } = loadConfig(values.config ?? process.env['BRIDGE_CONFIG'], process.env)
    const status = await spoolStatus(config)
    process.stdout.write(values.json === true ? `${JSON.stringify(status)}\n` : formatSpoolStatus(status))
    return 0
  }
  process.stderr.write(`unknown command "${command}"\n\n${USAGE}`)
  return 2
}

dropKafkajsTimeoutWarning()
main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exitCode = code
  },
  (error: unknown) => {
    // One line that says why, then out at once: Kafka's retry timers must not keep a process alive that serves nothing.
    process.stderr.write(`hotel-kafka-bridge: ${error instanceof Error ? error.message : String(error)}\n`)
    process.exit(exitCodeOf(error))
  },
)
