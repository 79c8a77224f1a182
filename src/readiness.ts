// The readiness policy (/readyz): can a request be stored now, and how (straight to Kafka, or the spool), and what holds the spool.
import type { Blocked } from './delivery/drainer.js'
import type { DeliveryMode } from './delivery/deliverer.js'
import type { KafkaEdge } from './delivery/kafka.js'

export interface Readiness {
  ready: boolean
  /** How accepted events are stored right now: "kafka", later "spool"; "none" when neither can take them. */
  delivering: 'kafka' | 'spool' | 'none'
  kafka: string
  /** The spool is held until an operator fixes something (an ACL, an incompatible schema): why, and since when. */
  blocked?: { reason: string; message: string; since: string }
  spool?: { entries: number; bytes: number; usedBytes: number; maxBytes: number }
  /** Subjects the schema registry refuses: not ready, although events are still accepted into the spool. */
  refusedSubjects?: string[]
  detail?: string
}

export interface ReadinessInputs {
  mode: () => DeliveryMode
  spool: { readonly entries: number; readonly bytes: number; readonly usedBytes: number }
  maxBytes: number
  kafka: Pick<KafkaEdge, 'prepared' | 'state' | 'probe'>
  /** While spooling, the drainer's attempts (and the idle probe) say whether Kafka answers. */
  kafkaUp: () => boolean
  blocked: () => Blocked | undefined
  /** Subjects the schema registry refuses, with its reason: a deploy error, so not ready. */
  refusedSubjects: () => ReadonlyMap<string, string>
}

export function createReadiness(inputs: ReadinessInputs): () => Promise<Readiness> {
  const { spool, kafka, maxBytes } = inputs
  return async () => {
    const spooling = inputs.mode() === 'spooling' || spool.entries > 0
    const reachable = kafka.prepared && (spooling ? inputs.kafkaUp() : kafka.state === 'connected' || (await kafka.probe()))
    const blocked = inputs.blocked()
    const base = {
      kafka: reachable ? 'connected' : 'unreachable',
      ...(blocked === undefined ? {} : { blocked: { reason: blocked.reason, message: blocked.message, since: blocked.since.toISOString() } }),
      spool: { entries: spool.entries, bytes: spool.bytes, usedBytes: spool.usedBytes, maxBytes },
    }
    const refused = [...inputs.refusedSubjects()]
    if (refused.length > 0) {
      // 503 halts a rolling deploy (the old instances keep serving); requests are still taken into the spool.
      const detail = `the schema registry refuses ${refused.map(([subject, reason]) => `${subject} (${reason})`).join('; ')}: run hotel-kafka-bridge schemas check`
      return { ready: false, delivering: spooling || !reachable ? 'spool' : 'kafka', detail, refusedSubjects: refused.map(([subject]) => subject), ...base }
    }
    if (!spooling && reachable) return { ready: true, delivering: 'kafka', ...base }
    // While the spool has room, every event is stored: ready, even with Kafka away (DV2000 never retries).
    if (spool.usedBytes < maxBytes) return { ready: true, delivering: 'spool', ...base }
    return { ready: false, delivering: 'none', detail: 'the spool is full and Kafka is not taking its backlog', ...base }
  }
}
