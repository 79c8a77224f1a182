#!/usr/bin/env node
// Command line: parses argv and dispatches to cli/.
import { parseArgs } from 'node:util'
import { health } from './cli/health.js'
import { serve } from './cli/serve.js'
import { formatSpoolStatus, spoolStatus } from './cli/spool.js'
import { tail } from './cli/tail.js'
import { loadConfig } from './config/load.js'
import { envVariableNames } from './config/env.js'
import { ErrorCodes, isBridgeError } from './errors.js'

const USAGE = `Usage: hotel-kafka-bridge <command> [options]

Commands:
  serve --config FILE     run the bridge (FILE may also come from BRIDGE_CONFIG)
  tail TOPIC --config FILE [--from-beginning] [--max N] [--timeout SECONDS]
                          print a topic's records as JSON lines, values decoded through the
                          schema registry (the config's topicPrefix is put in front of TOPIC)
  spool status --config FILE [--json]
                          entries, records, bytes and the age of the oldest entry in the spool
  health --config FILE [--ready] [--timeout SECONDS]
                          exit 0 when the bridge on this machine answers /healthz (or /readyz) with 200;
                          the container image's HEALTHCHECK
  help                    this text

Every config key can be overridden from the environment, e.g. BRIDGE_HTTP_PORT=9090;
a source's keys by its id, e.g. BRIDGE_SOURCES_FRONT_DESK_SECRETS=secret1,secret2.
Top-level variables: ${envVariableNames().join(', ')}
`

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
    },
  })
  const command = positionals[0] ?? 'help'
  if (values.help || command === 'help') {
    process.stdout.write(USAGE)
    return 0
  }
  if (command === 'serve') {
    await serve(values.config ?? process.env['BRIDGE_CONFIG'], process.env)
    return -1
  }
  if (command === 'tail') {
    const topic = positionals[1]
    if (topic === undefined) throw new Error('tail needs a TOPIC, e.g. tail dv2000.hospitality')
    const { config } = loadConfig(values.config ?? process.env['BRIDGE_CONFIG'], process.env)
    return tail(config, {
      topic,
      fromBeginning: values['from-beginning'] === true,
      max: values.max === undefined ? undefined : Number(values.max),
      timeoutMs: values.timeout === undefined ? undefined : Number(values.timeout) * 1000,
    })
  }
  if (command === 'health') {
    const { config } = loadConfig(values.config ?? process.env['BRIDGE_CONFIG'], process.env)
    return health(config, { ready: values.ready === true, timeoutMs: values.timeout === undefined ? 3_000 : Number(values.timeout) * 1000 })
  }
  if (command === 'spool') {
    if (positionals[1] !== 'status') throw new Error('usage: spool status --config FILE [--json]')
    const { config } = loadConfig(values.config ?? process.env['BRIDGE_CONFIG'], process.env)
    const status = await spoolStatus(config)
    process.stdout.write(values.json === true ? `${JSON.stringify(status)}\n` : formatSpoolStatus(status))
    return 0
  }
  process.stderr.write(`unknown command "${command}"\n\n${USAGE}`)
  return 2
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exitCode = code
  },
  (error: unknown) => {
    // One line that says why, then out at once: Kafka's retry timers must not keep a process alive that serves nothing.
    process.stderr.write(`hotel-kafka-bridge: ${error instanceof Error ? error.message : String(error)}\n`)
    process.exit(isBridgeError(error) && error.code !== ErrorCodes.CONFIG_INVALID ? 1 : 2)
  },
)
