// The consumer of the commands that read a topic (tail, deadletter replay): a group of its own per run, named under the
// prefix an ACL grants (kafka.readerGroupPrefix), and a stop for good reported to the caller rather than waited on.
import { randomUUID } from 'node:crypto'
import type { Consumer, Kafka } from 'kafkajs'
import type { BridgeConfig } from '../../config/schema.js'
import { BridgeError, ErrorCodes } from '../../errors.js'
import { groupRefusal, wrapKafkaError } from './errors.js'

export interface Reader {
  consumer: Consumer
  /** For a promise's catch: a kafkajs error of this reader rethrown as the bridge's, naming what to fix (an ACL on the group or the topic). */
  rethrow(error: unknown): never
}

/**
 * kafkajs restarts a consumer after an error it can retry and gives up on any other (an ACL, a refused login) with only
 * a CRASH event: `onStopped` hears of it, so that a command waiting for records fails instead of hanging.
 */
export function createReader(kafka: Kafka, config: BridgeConfig, purpose: 'tail' | 'replay', topic: string, onStopped: (error: BridgeError) => void): Reader {
  const prefix = config.kafka.readerGroupPrefix
  const groupId = `${prefix}${purpose}-${randomUUID()}`
  const consumer = kafka.consumer({ groupId, allowAutoTopicCreation: false })
  const explain = (error: unknown): BridgeError => {
    const refusal = groupRefusal(error)
    if (refusal === undefined) return wrapKafkaError(error, `reading ${topic}`)
    const unless = refusal === 'no coordinator' ? ', unless the cluster has no group coordinator up' : ''
    const message = `Kafka refused consumer group ${groupId} (reading ${topic}): the principal needs READ on the consumer groups whose names start with "${prefix}" (kafka.readerGroupPrefix)${unless}`
    return new BridgeError(ErrorCodes.KAFKA_UNAUTHORIZED, message, { cause: error })
  }
  consumer.on(consumer.events.CRASH, ({ payload }) => {
    if (!payload.restart) onStopped(explain(payload.error))
  })
  return {
    consumer,
    rethrow(error) {
      throw explain(error)
    },
  }
}
