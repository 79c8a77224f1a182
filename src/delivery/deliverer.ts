// The delivery policy, decided per request from state: Kafka directly while it answers and nothing of these topics waits; else the spool.
import { withWireHeader } from '../avro/encoder.js'
import { within } from '../deadline.js'
import type { SchemaIds } from '../avro/registry.js'
import { BridgeError, ErrorCodes, isBridgeError } from '../errors.js'
import type { Logger } from '../observability/logger.js'
import type { Batcher } from './batcher.js'
import { holdReasonOf } from './holds.js'
import type { SpoolEntry } from './spool/frame.js'
import type { SchemaTexts } from './spool/schema-texts.js'
import type { Spool } from './spool/spool.js'
import type { OutboundRecord, PreparedRecord, RecordSink, Stored } from './types.js'

export interface Deliverer extends RecordSink {
  /**
   * Drainer's half: the wire records for spooled entries (resolving schema ids, from disk if need be), through the
   * deliverer's batcher or, for a held topic's lane, one of its own (its refusals then hold nothing else up).
   */
  sendSpooled(entries: SpoolEntry[], through?: Batcher): Promise<void>
  /** The last spool write failed (and none succeeded since): why, and when. */
  readonly spoolWriteError: { message: string; at: Date } | undefined
}

export interface DelivererOptions {
  batcher: Batcher
  spool: Spool
  schemaIds: Pick<SchemaIds, 'cachedId' | 'idFor'>
  schemaTexts: SchemaTexts
  ackTimeoutMs: number
  logger: Logger
  /** Did Kafka answer its last call (or probe)? While it does not, requests go to the spool without waiting. */
  kafkaAnswers: () => boolean
  /** A request's records were not acknowledged in time, or failed as an outage: Kafka is not answering. */
  onKafkaUnanswered?: () => void
  /** Held for an operator, or records of it wait in its lane: a new record must queue behind them. */
  topicWaits: (topic: string) => boolean
  /** Starts (or keeps) the drainer going. */
  onSpooled: () => void
  /** A spool write failed: full, or the disk refused it. */
  onSpoolWriteFailed?: (error: BridgeError) => void
  now?: () => number
}

/**
 * What the spool should take rather than the sender get a 503 for: outages, and refusals an operator can fix
 * while the event waits on disk (a topic's ACL, a missing topic, an incompatible subject, a record over a topic's
 * size limit). DV2000 never retries: a 503 would lose it.
 */
const spoolable = (error: unknown): boolean =>
  isBridgeError(error) && (error.retriable || error.code === ErrorCodes.KAFKA_REJECTED || holdReasonOf(error) !== undefined)

export function createDeliverer(options: DelivererOptions): Deliverer {
  const { batcher, spool, schemaIds, schemaTexts, ackTimeoutMs, logger, onSpooled, kafkaAnswers, topicWaits } = options
  const now = options.now ?? (() => performance.now())
  let spoolWriteError: { message: string; at: Date } | undefined
  // Once per outage, not once per request that meets it.
  let outageLogged = false

  /** An older record of one of these topics waits (in the spool or a lane): this request must queue behind it. */
  function behindOlder(records: readonly PreparedRecord[]): boolean {
    for (const r of records) if (spool.pendingOf(r.topic) > 0 || topicWaits(r.topic)) return true
    return false
  }

  /** Wire records if every schema id is known already: the common path, with no await. */
  function wireIfKnown(records: readonly PreparedRecord[]): OutboundRecord[] | undefined {
    const out: OutboundRecord[] = new Array(records.length)
    for (let i = 0; i < records.length; i++) {
      const r = records[i]!
      const id = schemaIds.cachedId(`${r.topic}-value`, r.schema.text)
      if (id === undefined) return undefined
      out[i] = { topic: r.topic, key: r.key, value: withWireHeader(id, r.body), headers: r.headers }
    }
    return out
  }

  async function wire(records: readonly PreparedRecord[]): Promise<OutboundRecord[]> {
    const out: OutboundRecord[] = []
    for (const r of records) {
      const id = await schemaIds.idFor(`${r.topic}-value`, r.schema.text)
      out.push({ topic: r.topic, key: r.key, value: withWireHeader(id, r.body), headers: r.headers })
    }
    return out
  }

  async function toSpool(records: readonly PreparedRecord[], receivedAt: Date): Promise<Stored> {
    // The append is queued synchronously, before any await, so the spool keeps the order of arrival.
    const entry: SpoolEntry = {
      receivedAt: receivedAt.getTime(),
      records: records.map((r) => ({ topic: r.topic, key: r.key, headers: r.headers, schema: r.schema.hash, body: r.body })),
    }
    const appended = spool.append(entry)
    const schemasKept = Promise.all([...new Set(records.map((r) => r.schema))].map((s) => schemaTexts.keep(s)))
    // Both settled before answering, so that no write of this request is still going on after its answer.
    const failed = (await Promise.allSettled([appended, schemasKept])).find((r) => r.status === 'rejected')
    if (failed !== undefined) {
      const error: unknown = failed.reason
      const failure =
        isBridgeError(error) && (error.code === ErrorCodes.SPOOL_FULL || error.code === ErrorCodes.SPOOL_FAILED)
          ? error
          : new BridgeError(ErrorCodes.SPOOL_FAILED, `the spool could not keep the event: ${(error as Error).message}`, { cause: error })
      spoolWriteError = { message: failure.message, at: new Date() }
      options.onSpoolWriteFailed?.(failure)
      throw failure
    }
    if (spoolWriteError !== undefined) {
      logger.info({ failedSince: spoolWriteError.at.toISOString() }, 'the spool takes writes again')
      spoolWriteError = undefined
    }
    onSpooled()
    return 'spooled'
  }

  function acknowledged(wireRecords: OutboundRecord[], leftMs: number): Promise<void> {
    const delivered = batcher.deliver(wireRecords)
    // After a timeout the send goes on; if it succeeds too, the replay is a duplicate (at-least-once).
    delivered.catch(() => undefined)
    return within(delivered, leftMs, () => new BridgeError(ErrorCodes.KAFKA_UNAVAILABLE, `Kafka did not acknowledge within ${ackTimeoutMs} ms`, { retriable: true }))
  }

  /** Registry calls for a request share its ackTimeoutMs: a slow registry is an outage like a slow Kafka (202). */
  function wireInTime(records: readonly PreparedRecord[], leftMs: number): Promise<OutboundRecord[]> {
    const pending = wire(records)
    // The call goes on after the timeout: the id it learns serves the next request and the replay.
    pending.catch(() => undefined)
    return within(
      pending,
      leftMs,
      () => new BridgeError(ErrorCodes.REGISTRY_UNAVAILABLE, `the schema registry did not answer within ${ackTimeoutMs} ms`, { retriable: true }),
    )
  }

  /**
   * Straight to Kafka within what is left of the answer's deadline; 'behind' when records of these topics were
   * spooled while the registry answered, so that this request queues behind them instead of overtaking them.
   */
  async function direct(records: readonly PreparedRecord[], started: number): Promise<'delivered' | 'behind'> {
    const left = (): number => Math.max(1, ackTimeoutMs - (now() - started))
    let out = wireIfKnown(records)
    if (out === undefined) {
      out = await wireInTime(records, left())
      if (behindOlder(records) || !kafkaAnswers()) return 'behind'
    }
    await acknowledged(out, left())
    outageLogged = false
    return 'delivered'
  }

  return {
    get spoolWriteError() {
      return spoolWriteError
    },
    async deliver(records, receivedAt) {
      const started = now()
      const waiting = behindOlder(records)
      if (waiting || !kafkaAnswers()) {
        try {
          return await toSpool(records, receivedAt)
        } catch (spoolError) {
          // Only Kafka's last answer sent this request to the spool, and the spool cannot take it: Kafka is tried,
          // so that a broken spool never keeps the bridge refusing while Kafka answers. An order to keep is not.
          if (waiting) throw spoolError
          const delivered = await direct(records, started).catch(() => undefined)
          if (delivered === 'delivered') return delivered
          throw spoolError
        }
      }
      try {
        if ((await direct(records, started)) === 'behind') return toSpool(records, receivedAt)
        return 'delivered'
      } catch (error) {
        if (!spoolable(error)) throw error
        const outage = holdReasonOf(error) === undefined && (error as BridgeError).code !== ErrorCodes.KAFKA_REJECTED
        if (outage && (error as BridgeError).code === ErrorCodes.KAFKA_UNAVAILABLE) options.onKafkaUnanswered?.()
        if (outage && !outageLogged) {
          outageLogged = true
          logger.warn({ err: error }, 'Kafka or the registry did not take the records: accepting into the local spool')
        }
        // After an outage, requests still queued for Kafka follow this one into the spool, in their order (after a
        // refusal the batcher has failed those of the same topics already).
        if (outage) batcher.failQueued(error)
        return toSpool(records, receivedAt)
      }
    },
    async sendSpooled(entries, through = batcher) {
      const prepared: PreparedRecord[] = []
      for (const entry of entries) {
        for (const r of entry.records) {
          const text = await schemaTexts.textOf(r.schema)
          if (text === undefined) {
            throw new BridgeError(ErrorCodes.SPOOL_FAILED, `the schema ${r.schema} of a spooled record is missing from the spool folder`)
          }
          prepared.push({ topic: r.topic, key: r.key, headers: r.headers, schema: { text, hash: r.schema }, body: r.body })
        }
      }
      await through.deliver(wireIfKnown(prepared) ?? (await wire(prepared)))
    },
  }
}
