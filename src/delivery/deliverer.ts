// The delivery policy in front of Kafka: a request waits for its acks at most ackTimeoutMs.
import { BridgeError, ErrorCodes } from '../errors.js'
import type { Batcher } from './batcher.js'
import type { RecordSink } from './types.js'

export interface DelivererOptions {
  batcher: Batcher
  ackTimeoutMs: number
}

export function createDeliverer({ batcher, ackTimeoutMs }: DelivererOptions): RecordSink {
  return {
    deliver(records) {
      const delivered = batcher.deliver(records)
      let timer: NodeJS.Timeout | undefined
      const late = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new BridgeError(ErrorCodes.KAFKA_UNAVAILABLE, `Kafka did not acknowledge within ${ackTimeoutMs} ms`, { retriable: true })),
          ackTimeoutMs,
        )
      })
      // The send goes on after a timeout; its outcome is then only logged by the batcher's callback.
      delivered.catch(() => undefined)
      return Promise.race([delivered, late]).finally(() => clearTimeout(timer))
    },
  }
}
