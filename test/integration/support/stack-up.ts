// scripts/stack.sh up for a test run's global setup: starts what is not running and reads the addresses it prints.
import { execFileSync, spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'

export const STACK_SCRIPT = fileURLToPath(new URL('../../../scripts/stack.sh', import.meta.url))

export function runStack(env: Record<string, string>, ...args: string[]): string {
  return execFileSync('bash', [STACK_SCRIPT, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], timeout: 600_000, env: { ...process.env, ...env } })
}

/** What `status` says before, and the KEY=value lines of `up` (it throws, loudly, when something cannot start). */
export function stackUp(env: Record<string, string> = {}): { before: string; kafkaBrokers: string; schemaRegistryUrl: string; value: (key: string) => string } {
  const before = spawnSync('bash', [STACK_SCRIPT, 'status'], { encoding: 'utf8', env: { ...process.env, ...env } }).stdout
  const out = runStack(env, 'up')
  const value = (key: string): string => {
    const line = out.split('\n').find((l) => l.startsWith(`${key}=`))
    if (line === undefined) throw new Error(`scripts/stack.sh up printed no ${key}=… line:\n${out}`)
    return line.slice(key.length + 1).trim()
  }
  return { before, kafkaBrokers: value('KAFKA_BROKERS'), schemaRegistryUrl: value('SCHEMA_REGISTRY_URL'), value }
}
