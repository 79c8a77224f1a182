// The Kafka edge, by job: connection settings, log routing, errors, topics, and the producing edge.
export { createKafkaClient } from './connection.js'
export { createKafkaEdge, type KafkaEdge, type KafkaState } from './edge.js'
export { connectionRefusal, describeKafkaError, wrapKafkaError } from './errors.js'
export { kafkaLogCreator } from './log-routing.js'
export type { TopicAdmin } from './topics.js'
