// The command line as a child process (node + tsx on src/main.ts) on a config written to a file: exit code and output.
import { spawn } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = fileURLToPath(new URL('../../../', import.meta.url))

export interface CliRun {
  code: number | null
  stdout: string
  stderr: string
}

/** Runs `hotel-kafka-bridge ARGS --config FILE`; resolves when it exits (never throws for a non-zero exit). */
export async function runCli(args: readonly string[], config: Record<string, unknown>): Promise<CliRun> {
  const dir = mkdtempSync(join(tmpdir(), 'bridge-cli-'))
  const file = join(dir, 'bridge.yaml')
  writeFileSync(file, JSON.stringify(config))
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src/main.ts'), ...args, '--config', file], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, BRIDGE_CONFIG: undefined },
  })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject)
    child.once('close', (exitCode) => resolve(exitCode))
  })
  return { code, stdout, stderr }
}
