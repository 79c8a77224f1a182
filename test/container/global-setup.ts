// The local stack's Kafka and registry for the container tests (started if needed, stopped if started here), and the
// image to run, which scripts/container-tests.sh has built.
import { execFileSync } from 'node:child_process'
import type { TestProject } from 'vitest/node'
import { runStack, STACK_SCRIPT, stackUp } from '../integration/support/stack-up.js'

export default function setup(project: TestProject): () => void {
  const image = process.env['BRIDGE_IMAGE'] ?? 'hotel-kafka-bridge:dev'
  // Fails loudly: an engine that does not answer, or an image that is not there, is not a reason to skip.
  execFileSync('docker', ['image', 'inspect', image], { stdio: 'ignore' })
  const { before, kafkaBrokers, schemaRegistryUrl } = stackUp()
  project.provide('kafkaBrokers', kafkaBrokers)
  project.provide('schemaRegistryUrl', schemaRegistryUrl)
  project.provide('stackScript', STACK_SCRIPT)
  project.provide('stackEnv', {})
  project.provide('bridgeImage', image)
  const startedHere = ['kafka', 'registry'].filter((name) => !new RegExp(`^${name}: running`, 'm').test(before))
  return () => {
    if (process.env['KEEP_STACK'] === '1') return
    for (const name of startedHere) runStack({}, 'down', name)
  }
}

declare module 'vitest' {
  export interface ProvidedContext {
    bridgeImage: string
  }
}
