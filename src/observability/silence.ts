// Silent sources: a sender that stops posting is the most common real failure (a DV2000 upgrade drops its Events server
// from the server list), and nothing else notices it. Per source with silentAfter: flagged once, cleared once.
import type { SourceConfig } from '../config/schema.js'
import type { Logger } from './logger.js'
import type { Metrics } from './metrics.js'

export interface SilenceWatchOptions {
  /** The running sources (a reload changes them). */
  sources: () => readonly SourceConfig[]
  logger: Logger
  metrics: Pick<Metrics, 'sourceLastEvent' | 'sourceSilent'>
  /** How often silence is looked for. */
  checkMs?: number
  now?: () => number
}

export interface SilenceWatch {
  /** An authenticated request from this source (filtered ones too): it speaks. */
  heard(sourceId: string): void
  /** Looks for sources fallen silent or gone (a reload removed them); the timer calls it every checkMs. */
  check(): void
  stop(): void
}

const describe = (ms: number): string => (ms % 3_600_000 === 0 ? `${ms / 3_600_000}h` : ms % 60_000 === 0 ? `${ms / 60_000}m` : `${Math.round(ms / 1000)}s`)

export function createSilenceWatch(options: SilenceWatchOptions): SilenceWatch {
  const { logger, metrics } = options
  const now = options.now ?? Date.now
  /** Per source id: when it was last heard, or when it was first watched (the start, or the reload that added it). */
  const lastHeard = new Map<string, number>()
  const silent = new Set<string>()

  function check(): void {
    const sources = new Map(options.sources().map((s) => [s.id, s]))
    for (const id of [...lastHeard.keys()]) {
      if (sources.has(id)) continue
      lastHeard.delete(id)
      silent.delete(id)
      metrics.sourceSilent.remove({ source: id })
      metrics.sourceLastEvent.remove({ source: id })
    }
    const at = now()
    for (const source of sources.values()) {
      if (!lastHeard.has(source.id)) lastHeard.set(source.id, at)
      if (source.silentAfter === undefined) {
        if (silent.delete(source.id)) metrics.sourceSilent.remove({ source: source.id })
        continue
      }
      const quietMs = at - lastHeard.get(source.id)!
      if (quietMs >= source.silentAfter && !silent.has(source.id)) {
        silent.add(source.id)
        logger.warn(
          { source: source.id, type: source.type, silentAfter: describe(source.silentAfter) },
          `source ${source.id} has sent nothing for ${describe(source.silentAfter)} or more: check the sender (a DV2000 upgrade removes its Events server from the server list)`,
        )
      }
      metrics.sourceSilent.set({ source: source.id }, silent.has(source.id) ? 1 : 0)
    }
  }

  const timer = setInterval(check, options.checkMs ?? 5_000)
  timer.unref()
  check()

  return {
    heard(sourceId) {
      const at = now()
      const before = lastHeard.get(sourceId)
      lastHeard.set(sourceId, at)
      metrics.sourceLastEvent.set({ source: sourceId }, at / 1000)
      if (silent.delete(sourceId)) {
        metrics.sourceSilent.set({ source: sourceId }, 0)
        logger.info({ source: sourceId, silentForSeconds: before === undefined ? undefined : Math.round((at - before) / 1000) }, `source ${sourceId} speaks again`)
      }
    },
    check,
    stop: () => clearInterval(timer),
  }
}
