// Brings up the real local Kafka broker and schema registry (scripts/stack.sh) before the integration tests.
import { execFileSync, spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import type { TestProject } from 'vitest/node'

declare module 'vitest' {
  export interface ProvidedContext {
    kafkaBrokers: string
    schemaRegistryUrl: string
    stackScript: string
    /** Environment for scripts/stack.sh (the cluster tests' STACK_BROKERS and ports); none for the one broker. */
    stackEnv: Record<string, string>
  }
}

const STACK = fileURLToPath(new URL('../../scripts/stack.sh', import.meta.url))

function stack(...args: string[]): string {
  return execFileSync('bash', [STACK, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], timeout: 600_000 })
}

export default function setup(project: TestProject): () => void {
  const before = spawnSync('bash', [STACK, 'status'], { encoding: 'utf8' }).stdout
  // Fails loudly (throws) when the broker or registry cannot start: integration tests never skip.
  const out = stack('up')
  const value = (key: string): string => {
    const line = out.split('\n').find((l) => l.startsWith(`${key}=`))
    if (line === undefined) throw new Error(`scripts/stack.sh up printed no ${key}=… line:\n${out}`)
    return line.slice(key.length + 1).trim()
  }
  project.provide('kafkaBrokers', value('KAFKA_BROKERS'))
  project.provide('schemaRegistryUrl', value('SCHEMA_REGISTRY_URL'))
  project.provide('stackScript', STACK)
  project.provide('stackEnv', {})
  const startedHere = !/^kafka: running/m.test(before) || !/^registry: running/m.test(before)
  return () => {
    // Leave a stack the developer started (make run) alone; stop one these tests started, unless asked to keep it.
    if (startedHere && process.env['KEEP_STACK'] !== '1') stack('down')
  }
}
