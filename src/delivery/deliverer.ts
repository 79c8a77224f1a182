// The delivery policy: straight to Kafka while it answers in time; otherwise, and until the spool is empty, the spool.
import { withWireHeader } from '../avro/encoder.js'
import { within } from '../deadline.js'
import type { SchemaIds } from '../avro/registry.js'
import { BridgeError, ErrorCodes, isBridgeError } from '../errors.js'
import type { Logger } from '../observability/logger.js'
import type { Batcher } from './batcher.js'
import type { SpoolEntry } from './spool/frame.js'
import type { SchemaTexts } from './spool/schema-texts.js'
import type { Spool } from './spool/spool.js'
import type { OutboundRecord, PreparedRecord, RecordSink, Stored } from './types.js'

export type DeliveryMode = 'direct' | 'spooling'

export interface Deliverer extends RecordSink {
  readonly mode: DeliveryMode
  /** Drainer's half: the wire records for spooled entries (resolving schema ids, from disk if need be). */
  sendSpooled(entries: SpoolEntry[]): Promise<void>
  /** After the drainer emptied the spool. */
  resume(): void
}

export interface DelivererOptions {
  batcher: Batcher
  spool: Spool
  schemaIds: Pick<SchemaIds, 'cachedId' | 'idFor'>
  schemaTexts: SchemaTexts
  ackTimeoutMs: number
  logger: Logger
  /** Starts (or keeps) the drainer going. */
  onSpooled: () => void
}

/**
 * What the spool should take rather than the sender get a 503 for: outages, and refusals by Kafka or the
 * registry (an incompatible subject, a topic's size limit or ACL), which an operator can fix while the event
 * waits on disk. DV2000 never retries: a 503 would lose it.
 */
const spoolable = (error: unknown): boolean =>
  isBridgeError(error) &&
  (error.retriable || error.code === ErrorCodes.KAFKA_REJECTED || error.code === ErrorCodes.KAFKA_UNAUTHORIZED || error.code === ErrorCodes.REGISTRY_REJECTED)

export function createDeliverer(options: DelivererOptions): Deliverer {
  const { batcher, spool, schemaIds, schemaTexts, ackTimeoutMs, logger, onSpooled } = options
  let mode: DeliveryMode = 'direct'
  // Anything already spooled goes first: a new request may not overtake it.
  const mustSpool = (): boolean => mode === 'spooling' || spool.entries > 0

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

  function enterSpooling(reason: unknown): void {
    if (mode === 'spooling') return
    mode = 'spooling'
    logger.warn({ err: reason }, 'Kafka or the registry did not take the records: accepting into the local spool')
  }

  async function toSpool(records: readonly PreparedRecord[], receivedAt: Date): Promise<Stored> {
    // The append is queued synchronously, before any await, so the spool keeps the order of arrival.
    const entry: SpoolEntry = {
      receivedAt: receivedAt.getTime(),
      records: records.map((r) => ({ topic: r.topic, key: r.key, headers: r.headers, schema: r.schema.hash, body: r.body })),
    }
    const appended = spool.append(entry)
    const schemasKept = Promise.all([...new Set(records.map((r) => r.schema))].map((s) => schemaTexts.keep(s)))
    try {
      await Promise.all([appended, schemasKept])
    } catch (error) {
      if (isBridgeError(error) && (error.code === ErrorCodes.SPOOL_FULL || error.code === ErrorCodes.SPOOL_FAILED)) throw error
      throw new BridgeError(ErrorCodes.SPOOL_FAILED, `the spool could not keep the event: ${(error as Error).message}`, { cause: error })
    }
    onSpooled()
    return 'spooled'
  }

  function acknowledged(wireRecords: OutboundRecord[], leftMs: number): Promise<void> {
    const delivered = batcher.deliver(wireRecords)
    // After a timeout the send goes on; if it succeeds too, the replay is a duplicate (at-least-once).
    delivered.catch(() => undefined)
    return within(
      delivered,
      leftMs,
      () => new BridgeError(ErrorCodes.KAFKA_UNAVAILABLE, `Kafka did not acknowledge within ${ackTimeoutMs} ms`, { retriable: true }),
    )
  }

  /** Registry calls for a request share its ackTimeoutMs: a slow registry is an outage like a slow Kafka (202). */
  function wireInTime(records: readonly PreparedRecord[]): Promise<OutboundRecord[]> {
    const pending = wire(records)
    // The call goes on after the timeout: the id it learns serves the next request and the replay.
    pending.catch(() => undefined)
    return within(
      pending,
      ackTimeoutMs,
      () => new BridgeError(ErrorCodes.REGISTRY_UNAVAILABLE, `the schema registry did not answer within ${ackTimeoutMs} ms`, { retriable: true }),
    )
  }

  return {
    get mode() {
      return mode
    },
    resume() {
      if (mode === 'spooling') logger.info('spool empty: delivering straight to Kafka')
      mode = 'direct'
    },
    async deliver(records, receivedAt) {
      if (mustSpool()) return toSpool(records, receivedAt)
      const started = performance.now()
      let out = wireIfKnown(records)
      if (out === undefined) {
        try {
          out = await wireInTime(records)
        } catch (error) {
          if (!spoolable(error)) throw error
          enterSpooling(error)
          return toSpool(records, receivedAt)
        }
        // The mode may have changed while the registry answered: stay behind what was spooled meanwhile.
        if (mustSpool()) return toSpool(records, receivedAt)
      }
      try {
        await acknowledged(out, Math.max(1, ackTimeoutMs - (performance.now() - started)))
        return 'delivered'
      } catch (error) {
        if (!spoolable(error)) throw error
        enterSpooling(error)
        // Requests still queued for Kafka follow this one into the spool, in their order.
        batcher.failQueued(error)
        return toSpool(records, receivedAt)
      }
    },
    async sendSpooled(entries) {
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
      await batcher.deliver(wireIfKnown(prepared) ?? (await wire(prepared)))
    },
  }
}
