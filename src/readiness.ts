// The readiness policy (/readyz): can a request be stored now, and how (straight to Kafka, or the spool); which topics are held and why.
import type { Hold } from './delivery/holds.js'
import type { KafkaEdge } from './delivery/kafka/index.js'

export interface Readiness {
  ready: boolean
  /** How accepted events are stored right now: "kafka", later "spool"; "none" when neither can take them. */
  delivering: 'kafka' | 'spool' | 'none'
  kafka: string
  /** Why Kafka refuses the bridge's connection (authentication failed, certificate not trusted or required). */
  kafkaRefusal?: string
  /** Topics held until an operator fixes something (an ACL, a missing topic, a refused subject); the rest flows. */
  held: { topic: string; reason: string; message: string; since: string; entries: number }[]
  spool: {
    entries: number
    bytes: number
    usedBytes: number
    maxBytes: number
    /** False while the last spool write failed (a full disk, an I/O error): events are then tried on Kafka only. */
    writable: boolean
    lastWriteError?: { message: string; at: string }
  }
  /** Subjects the schema registry refuses: not ready, although events are still accepted into the spool. */
  refusedSubjects?: string[]
  detail?: string
}

export interface ReadinessInputs {
  spool: { readonly entries: number; readonly bytes: number; readonly usedBytes: number }
  maxBytes: number
  kafka: Pick<KafkaEdge, 'prepared' | 'state' | 'probe'> & Partial<Pick<KafkaEdge, 'refusal'>>
  /** Kafka's last answer (a produce call, the drainer's attempts, the idle probe). */
  kafkaUp: () => boolean
  /** Kafka's last answer to a produce call: while it was none, requests go to the spool. */
  producing: () => boolean
  held: () => Hold[]
  /** Entries waiting per held topic's lane. */
  waiting: () => { topic: string; entries: number }[]
  spoolWriteError: () => { message: string; at: Date } | undefined
  /** Subjects the schema registry refuses, with its reason: a deploy error, so not ready. */
  refusedSubjects: () => ReadonlyMap<string, string>
}

export function createReadiness(inputs: ReadinessInputs): () => Promise<Readiness> {
  const { spool, kafka, maxBytes } = inputs
  return async () => {
    const spooling = spool.entries > 0 || !inputs.producing()
    const reachable = kafka.prepared && (spooling ? inputs.kafkaUp() : kafka.state === 'connected' || (await kafka.probe()))
    const waiting = new Map(inputs.waiting().map((lane) => [lane.topic, lane.entries]))
    const writeError = inputs.spoolWriteError()
    const writable = writeError === undefined && spool.usedBytes < maxBytes
    const refusal = reachable ? undefined : kafka.refusal
    const base = {
      kafka: reachable ? 'connected' : 'unreachable',
      ...(refusal === undefined ? {} : { kafkaRefusal: refusal }),
      held: inputs.held().map((h) => ({ topic: h.topic, reason: h.reason, message: h.message, since: h.since.toISOString(), entries: waiting.get(h.topic) ?? 0 })),
      spool: {
        entries: spool.entries,
        bytes: spool.bytes,
        usedBytes: spool.usedBytes,
        maxBytes,
        writable,
        ...(writeError === undefined ? {} : { lastWriteError: { message: writeError.message, at: writeError.at.toISOString() } }),
      },
    }
    const refused = [...inputs.refusedSubjects()]
    if (refused.length > 0) {
      // 503 halts a rolling deploy (the old instances keep serving); requests are still taken into the spool.
      const detail = `the schema registry refuses ${refused.map(([subject, reason]) => `${subject} (${reason})`).join('; ')}: run hotel-kafka-bridge schemas check`
      return { ready: false, delivering: spooling || !reachable ? 'spool' : 'kafka', detail, refusedSubjects: refused.map(([subject]) => subject), ...base }
    }
    if (!spooling && reachable) return { ready: true, delivering: 'kafka', ...(writable ? {} : { detail: 'the spool cannot take writes: events go to Kafka only' }), ...base }
    // While the spool has room, every event is stored: ready, even with Kafka away (DV2000 never retries).
    if (writable) return { ready: true, delivering: 'spool', ...base }
    if (reachable) return { ready: true, delivering: 'kafka', detail: 'the spool cannot take writes: events are tried on Kafka, those behind spooled records of their topic are refused', ...base }
    return { ready: false, delivering: 'none', detail: writeError === undefined ? 'the spool is full and Kafka is not taking its backlog' : `the spool cannot write (${writeError.message}) and Kafka does not answer`, ...base }
  }
}
