// The Kafka edge, by job: connection settings, log routing, errors, topics, the producing edge, and the readers' consumer.
export { createKafkaClient } from './connection.js'
export { createKafkaEdge, type KafkaEdge, type KafkaState } from './edge.js'
export { connectionRefusal, describeKafkaError, rethrowWrapped, wrapKafkaError } from './errors.js'
export { kafkaLogCreator } from './log-routing.js'
export { createReader, type Reader } from './reader.js'
export type { TopicAdmin } from './topics.js'
