// The stack's secured broker (scripts/stack.sh kafka-secure): the bridge's connection settings per principal, and ACLs granted as admin.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { Kafka, logLevel, type AclOperationTypes } from 'kafkajs'
import { inject } from 'vitest'

/** kafkajs's ACL enums, by value: its CommonJS enums do not reach Node's ESM loader. */
export const Operation = { WRITE: 4, CREATE: 5, DESCRIBE: 8, DESCRIBE_CONFIGS: 10 } as const
const TOPIC = 2
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

function adminClient() {
  return new Kafka({
    clientId: 'it-secure-admin',
    brokers: [secureStack().saslBrokers],
    ssl: { ca: [readFileSync(pkiFile('ca.pem'), 'utf8')] },
    sasl: { mechanism: 'scram-sha-512', username: 'admin', password: password('admin') },
    logLevel: logLevel.NOTHING,
  }).admin()
}

/** Allows `principal` the operations on every topic whose name starts with `prefix`, and waits until they apply. */
export async function grant(principal: string, prefix: string, operations: readonly (typeof Operation)[keyof typeof Operation][]): Promise<void> {
  const admin = adminClient()
  await admin.connect()
  try {
    await admin.createAcls({
      acl: operations.map((operation) => ({
        resourceType: TOPIC,
        resourceName: prefix,
        resourcePatternType: PREFIXED,
        principal,
        host: '*',
        operation: operation as unknown as AclOperationTypes,
        permissionType: ALLOW,
      })) as never,
    })
  } finally {
    await admin.disconnect()
  }
}
