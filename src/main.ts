#!/usr/bin/env node
// Command line: parses argv and dispatches to cli/.
import { parseArgs } from 'node:util'
import { serve } from './cli/serve.js'
import { envVariableNames } from './config/env.js'
import { isBridgeError } from './errors.js'

const USAGE = `Usage: hotel-kafka-bridge <command> [options]

Commands:
  serve --config FILE     run the bridge (FILE may also come from BRIDGE_CONFIG)
  help                    this text

Every config key can be overridden from the environment, e.g. BRIDGE_HTTP_PORT=9090;
a source's keys by its id, e.g. BRIDGE_SOURCES_FRONT_DESK_SECRETS=secret1,secret2.
Top-level variables: ${envVariableNames().join(', ')}
`

async function main(argv: string[]): Promise<number> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { config: { type: 'string', short: 'c' }, help: { type: 'boolean', short: 'h' } },
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
  process.stderr.write(`unknown command "${command}"\n\n${USAGE}`)
  return 2
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exitCode = code
  },
  (error: unknown) => {
    process.stderr.write(`hotel-kafka-bridge: ${isBridgeError(error) || error instanceof Error ? error.message : String(error)}\n`)
    process.exitCode = 2
  },
)
