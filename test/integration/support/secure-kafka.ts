// The stack's secured broker (scripts/stack.sh kafka-secure): the bridge's connection settings per principal, and ACLs granted as admin.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { Kafka, logLevel, type Admin } from 'kafkajs'
import { inject } from 'vitest'

/** kafkajs's ACL enums, by value: its CommonJS enums do not reach Node's ESM loader. */
export const Operation = { READ: 3, WRITE: 4, CREATE: 5, DESCRIBE: 8, DESCRIBE_CONFIGS: 10 } as const
type Op = (typeof Operation)[keyof typeof Operation]
const TOPIC = 2
const GROUP = 3
const PREFIXED = 4
const ALLOW = 3

export interface SecureStack {
  /** SASL_SSL (SCRAM-SHA-512) and SSL requiring a client certificate. */
  saslBrokers: string
  mtlsBrokers: string
  /** The folder of its CA, certificates and passwords. */
  pki: string
}

export const secureStack = (): SecureStack => inject('secureKafka')
export const pkiFile = (name: string): string => join(secureStack().pki, name)
export const password = (user: 'admin' | 'bridge'): string => readFileSync(pkiFile(`${user}.password`), 'utf8').trim()

/** The `kafka` section of a bridge config for the SCRAM principal User:bridge over SASL_SSL, trusting the stack's CA. */
export function saslKafka(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    brokers: [secureStack().saslBrokers],
    caFile: pkiFile('ca.pem'),
    sasl: { mechanism: 'scram-sha-512', username: 'bridge', passwordFile: pkiFile('bridge.password') },
    ackTimeoutMs: 2_000,
    probeIntervalMs: 1_000,
    ...extra,
  }
}

/** The `kafka` section for the mutual-TLS principal User:bridge-mtls (its certificate's CN). */
export function mtlsKafka(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    brokers: [secureStack().mtlsBrokers],
    caFile: pkiFile('ca.pem'),
    certFile: pkiFile('bridge-mtls.pem'),
    keyFile: pkiFile('bridge-mtls.key'),
    ackTimeoutMs: 2_000,
    probeIntervalMs: 1_000,
    ...extra,
  }
}

function adminClient(): Admin {
  return new Kafka({
    clientId: 'it-secure-admin',
    brokers: [secureStack().saslBrokers],
    ssl: { ca: [readFileSync(pkiFile('ca.pem'), 'utf8')] },
    sasl: { mechanism: 'scram-sha-512', username: 'admin', password: password('admin') },
    logLevel: logLevel.NOTHING,
  }).admin()
}

/** Runs `work` as the broker's super user (User:admin): what an operator does with the cluster's own tools. */
export async function asAdmin<T>(work: (admin: Admin) => Promise<T>): Promise<T> {
  const admin = adminClient()
  await admin.connect()
  try {
    return await work(admin)
  } finally {
    await admin.disconnect()
  }
}

function allow(principal: string, resourceType: number, prefix: string, operations: readonly Op[]): Promise<boolean> {
  const acl = operations.map((operation) => ({ resourceType, resourceName: prefix, resourcePatternType: PREFIXED, principal, host: '*', operation, permissionType: ALLOW }))
  return asAdmin((admin) => admin.createAcls({ acl: acl as never }))
}

/** Allows `principal` the operations on every topic whose name starts with `prefix` (applied within moments). */
export const grant = (principal: string, prefix: string, operations: readonly Op[]): Promise<boolean> => allow(principal, TOPIC, prefix, operations)

/** Allows `principal` the operations on every consumer group whose name starts with `prefix`. */
export const grantGroups = (principal: string, prefix: string, operations: readonly Op[]): Promise<boolean> => allow(principal, GROUP, prefix, operations)
