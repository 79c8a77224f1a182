// A live reload (SIGHUP or a watched file): load and validate the config again, refuse it whole if it changes what only a
// restart can, else apply it; one line either way, counted. The running config stays until a reload succeeds.
import type { BridgeConfig } from '../config/schema.js'
import type { Logger } from '../observability/logger.js'
import type { Metrics } from '../observability/metrics.js'
import { restartOnlyChanges } from './restart-only.js'

export type ReloadResult = 'ok' | 'invalid' | 'refused'

export interface ReloaderOptions {
  /** Reads the file, the environment and the files it names, and validates: throws CONFIG_INVALID naming each key. */
  load: () => BridgeConfig
  /** Applies a config that passed (rejects, changing nothing, when it cannot: a certificate that is not its key's). */
  apply: (next: BridgeConfig) => Promise<void>
  initial: BridgeConfig
  logger: Logger
  metrics: Pick<Metrics, 'configReloads' | 'configLastReload'>
  now?: () => number
}

export interface Reloader {
  /** The config running now. */
  readonly current: BridgeConfig
  /** One reload at a time: asked for while one runs, it runs once after it (two signals, one more reload). */
  reload(trigger: string): Promise<ReloadResult>
}

/** What the sources became: ids added, removed, and changed (any key: secrets, filters, allow-list, limits). */
function sourceChanges(current: BridgeConfig, next: BridgeConfig): { added: string[]; removed: string[]; changed: string[] } {
  const before = new Map(current.sources.map((s) => [s.id, JSON.stringify(s)]))
  const after = new Map(next.sources.map((s) => [s.id, JSON.stringify(s)]))
  return {
    added: [...after.keys()].filter((id) => !before.has(id)),
    removed: [...before.keys()].filter((id) => !after.has(id)),
    changed: [...after.keys()].filter((id) => before.has(id) && before.get(id) !== after.get(id)),
  }
}

export function createReloader(options: ReloaderOptions): Reloader {
  const { logger, metrics } = options
  const now = options.now ?? Date.now
  let current = options.initial
  let running: Promise<ReloadResult> | undefined
  let again: Promise<ReloadResult> | undefined
  metrics.configLastReload.set(now() / 1000)

  async function reloadOnce(trigger: string): Promise<ReloadResult> {
    const result = await attempt(trigger)
    metrics.configReloads.inc({ result })
    if (result === 'ok') metrics.configLastReload.set(now() / 1000)
    return result
  }

  async function attempt(trigger: string): Promise<ReloadResult> {
    let next: BridgeConfig
    try {
      next = options.load()
    } catch (error) {
      logger.error({ trigger, reason: (error as Error).message }, 'configuration reload refused: the new configuration is invalid; the running one stays')
      return 'invalid'
    }
    const fixed = restartOnlyChanges(current, next)
    if (fixed.length > 0) {
      logger.error({ trigger, keys: fixed }, `configuration reload refused: ${fixed.join(', ')} change only at a restart; the running configuration stays`)
      return 'refused'
    }
    try {
      await options.apply(next)
    } catch (error) {
      logger.error({ trigger, reason: (error as Error).message }, 'configuration reload refused: it could not be applied; the running configuration stays')
      return 'invalid'
    }
    const sources = sourceChanges(current, next)
    current = next
    logger.info({ trigger, ...sources }, 'configuration reloaded')
    return 'ok'
  }

  function reload(trigger: string): Promise<ReloadResult> {
    if (running === undefined) {
      running = reloadOnce(trigger).finally(() => (running = undefined))
      return running
    }
    // Whatever changed while this one ran is read by one more reload after it.
    again ??= running.then(() => {
      again = undefined
      return reload(trigger)
    })
    return again
  }

  return {
    get current() {
      return current
    },
    reload,
  }
}
