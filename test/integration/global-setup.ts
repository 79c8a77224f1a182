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
    /** The secured broker beside the one broker (STACK_SECURE=1). */
    secureKafka: { saslBrokers: string; mtlsBrokers: string; pki: string }
  }
}

export default function setup(project: TestProject): () => void {
  // Fails loudly (throws) when the broker or registry cannot start: integration tests never skip.
  // The secured broker too: its tests run with the others.
  const { before, kafkaBrokers, schemaRegistryUrl, value } = stackUp({ STACK_SECURE: '1' })
  project.provide('kafkaBrokers', kafkaBrokers)
  project.provide('schemaRegistryUrl', schemaRegistryUrl)
  project.provide('stackScript', STACK_SCRIPT)
  project.provide('stackEnv', {})
  project.provide('secureKafka', { saslBrokers: value('SECURE_KAFKA_SASL_BROKERS'), mtlsBrokers: value('SECURE_KAFKA_MTLS_BROKERS'), pki: value('SECURE_KAFKA_PKI') })
  // Only what these tests started is stopped: a developer's `make stack-up` (kafka, registry) outlives the run.
  // In the order `stack.sh down` stops them all: the registry before the brokers it may still be talking to.
  const startedHere = ['registry', 'kafka-secure', 'kafka'].filter((service) => !new RegExp(`^${service}: running`, 'm').test(before))
  return () => {
    if (process.env['KEEP_STACK'] === '1') return
    for (const service of startedHere) runStack({ STACK_SECURE: '1' }, 'down', service)
  }
}
