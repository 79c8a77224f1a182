// The consumer of the commands that read a topic (tail, deadletter replay): a group of its own per run under one prefix
// an ACL can name, and a stop for good reported to the caller rather than waited on.
import { randomUUID } from 'node:crypto'
import type { Consumer, Kafka } from 'kafkajs'
import type { BridgeError } from '../../errors.js'
import { READER_GROUP_PREFIX, wrapKafkaError } from './errors.js'

/**
 * kafkajs restarts a consumer after an error it can retry and gives up on any other (an ACL, a refused login) with only
 * a CRASH event: `onStopped` hears of it, so that a reader waiting for records fails instead of hanging.
 */
export function readerConsumer(kafka: Kafka, purpose: 'tail' | 'replay', topic: string, onStopped: (error: BridgeError) => void): Consumer {
  const consumer = kafka.consumer({ groupId: `${READER_GROUP_PREFIX}${purpose}-${randomUUID()}`, allowAutoTopicCreation: false })
  consumer.on(consumer.events.CRASH, ({ payload }) => {
    if (!payload.restart) onStopped(wrapKafkaError(payload.error, `reading ${topic}`))
  })
  return consumer
}
