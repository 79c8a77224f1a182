// Brings up a real three-broker KRaft cluster (scripts/stack.sh, STACK_BROKERS=3) beside the one-broker stack, on ports of its own.
import { execFileSync, spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import type { TestProject } from 'vitest/node'

const STACK = fileURLToPath(new URL('../../scripts/stack.sh', import.meta.url))
/** 19092, 19094, 19096 (controllers one above): the one broker of the other tests keeps 9092. */
const CLUSTER_ENV = { STACK_BROKERS: '3', KAFKA_PORT: process.env['CLUSTER_KAFKA_PORT'] ?? '19092' }

function stack(...args: string[]): string {
  return execFileSync('bash', [STACK, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], timeout: 600_000, env: { ...process.env, ...CLUSTER_ENV } })
}

export default function setup(project: TestProject): () => void {
  const before = spawnSync('bash', [STACK, 'status'], { encoding: 'utf8', env: { ...process.env, ...CLUSTER_ENV } }).stdout
  // Fails loudly (throws) when the cluster or the registry cannot start: these tests never skip.
  const out = stack('up')
  const value = (key: string): string => {
    const line = out.split('\n').find((l) => l.startsWith(`${key}=`))
    if (line === undefined) throw new Error(`scripts/stack.sh up printed no ${key}=… line:\n${out}`)
    return line.slice(key.length + 1).trim()
  }
  project.provide('kafkaBrokers', value('KAFKA_BROKERS'))
  project.provide('schemaRegistryUrl', value('SCHEMA_REGISTRY_URL'))
  project.provide('stackScript', STACK)
  project.provide('stackEnv', CLUSTER_ENV)
  const startedHere = !/^kafka-1: running/m.test(before)
  return () => {
    if (startedHere && process.env['KEEP_STACK'] !== '1') stack('down', 'kafka')
  }
}
