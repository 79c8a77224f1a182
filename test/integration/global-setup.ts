// Brings up the real local Kafka broker and schema registry (scripts/stack.sh) before the integration tests.
import type { TestProject } from 'vitest/node'
import { runStack, STACK_SCRIPT, stackUp } from './support/stack-up.js'

declare module 'vitest' {
  export interface ProvidedContext {
    kafkaBrokers: string
    schemaRegistryUrl: string
    stackScript: string
    /** Environment for scripts/stack.sh (the cluster tests' STACK_BROKERS and ports); none for the one broker. */
    stackEnv: Record<string, string>
  }
}

export default function setup(project: TestProject): () => void {
  // Fails loudly (throws) when the broker or registry cannot start: integration tests never skip.
  const { before, kafkaBrokers, schemaRegistryUrl } = stackUp()
  project.provide('kafkaBrokers', kafkaBrokers)
  project.provide('schemaRegistryUrl', schemaRegistryUrl)
  project.provide('stackScript', STACK_SCRIPT)
  project.provide('stackEnv', {})
  const startedHere = !/^kafka: running/m.test(before) || !/^registry: running/m.test(before)
  return () => {
    // Leave a stack the developer started (make run) alone; stop one these tests started, unless asked to keep it.
    if (startedHere && process.env['KEEP_STACK'] !== '1') runStack({}, 'down')
  }
}
