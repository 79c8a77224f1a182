// Brings up a real three-broker KRaft cluster (scripts/stack.sh, STACK_BROKERS=3) beside the one-broker stack, on ports of its own.
import type { TestProject } from 'vitest/node'
import { runStack, STACK_SCRIPT, stackUp } from '../integration/support/stack-up.js'

/** 19092, 19094, 19096 (controllers one above): the one broker of the other tests keeps 9092. */
const CLUSTER_ENV = { STACK_BROKERS: '3', KAFKA_PORT: process.env['CLUSTER_KAFKA_PORT'] ?? '19092' }

export default function setup(project: TestProject): () => void {
  // Fails loudly (throws) when the cluster or the registry cannot start: these tests never skip.
  const { before, kafkaBrokers, schemaRegistryUrl } = stackUp(CLUSTER_ENV)
  project.provide('kafkaBrokers', kafkaBrokers)
  project.provide('schemaRegistryUrl', schemaRegistryUrl)
  project.provide('stackScript', STACK_SCRIPT)
  project.provide('stackEnv', CLUSTER_ENV)
  const clusterStartedHere = !/^kafka-1: running/m.test(before)
  const registryStartedHere = !/^registry: running/m.test(before)
  return () => {
    if (process.env['KEEP_STACK'] === '1') return
    if (clusterStartedHere) runStack(CLUSTER_ENV, 'down', 'kafka')
    if (registryStartedHere) runStack(CLUSTER_ENV, 'down', 'registry')
  }
}
