// How every command reaches Kafka: brokers, TLS (system CAs, a private CA, a client certificate), SASL and timeouts, in one place.
import { readFileSync } from 'node:fs'
import type { ConnectionOptions } from 'node:tls'
import { Kafka, logLevel, type SASLOptions } from 'kafkajs'
import type { BridgeConfig } from '../../config/schema.js'
import type { Logger } from '../../observability/logger.js'
import { kafkaLogCreator } from './log-routing.js'
import './record-encoder.js'
import './request-queue-fix.js'

/** What kafkajs takes for TLS: false, true (the system's CAs), or the private CA and client certificate read now. */
function kafkaTls(kafka: BridgeConfig['kafka']): boolean | ConnectionOptions {
  const { ssl, caFile, certFile, keyFile } = kafka
  if (caFile === undefined && certFile === undefined) return ssl
  // The files were checked when the config was loaded; read again here, as they are on reload.
  return {
    ...(caFile === undefined ? {} : { ca: [readFileSync(caFile, 'utf8')] }),
    ...(certFile === undefined || keyFile === undefined ? {} : { cert: readFileSync(certFile, 'utf8'), key: readFileSync(keyFile, 'utf8') }),
  }
}

function kafkaSasl(kafka: BridgeConfig['kafka']): SASLOptions | undefined {
  const { sasl } = kafka
  return sasl === undefined ? undefined : ({ mechanism: sasl.mechanism, username: sasl.username, password: sasl.password } as SASLOptions)
}

/** A kafkajs client with the config's connection settings, logging through ours: serve, tail and the replay commands. */
export function createKafkaClient(config: BridgeConfig, logger: Logger, clientSuffix = ''): Kafka {
  const options = config.kafka
  return new Kafka({
    clientId: `${options.clientId}${clientSuffix}`,
    brokers: [...options.brokers],
    ssl: kafkaTls(options),
    sasl: kafkaSasl(options),
    connectionTimeout: options.connectionTimeoutMs,
    requestTimeout: options.requestTimeoutMs,
    logLevel: logLevel.WARN,
    logCreator: kafkaLogCreator(logger),
    retry: { retries: 5, initialRetryTime: 100, maxRetryTime: 2_000 },
  })
}
