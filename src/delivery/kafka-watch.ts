// Whether Kafka answers, for bridge_kafka_up and readiness: each produce call's outcome, and a metadata probe whenever none was made for a while.

export interface KafkaWatchOptions {
  /** One metadata round trip, bounded: true when a broker answered. */
  probe: () => Promise<boolean>
  /** With no produce call for this long, a probe is sent. */
  intervalMs: number
  onChange?: (up: boolean) => void
  now?: () => number
}

export interface KafkaWatch {
  /** False until the first contact succeeds. */
  readonly up: boolean
  /** A produce call's outcome: `true` when Kafka answered it (acknowledged, or refused for a reason of its own). */
  observe(answered: boolean): void
  start(): void
  stop(): void
}

export function createKafkaWatch(options: KafkaWatchOptions): KafkaWatch {
  const { probe, intervalMs, onChange } = options
  const now = options.now ?? (() => performance.now())
  let up = false
  let lastContact = -Infinity
  let probing = false
  let timer: NodeJS.Timeout | undefined

  function set(answered: boolean): void {
    lastContact = now()
    if (answered === up) return
    up = answered
    onChange?.(up)
  }

  async function tick(): Promise<void> {
    if (probing || now() - lastContact < intervalMs) return
    probing = true
    try {
      set(await probe())
    } finally {
      probing = false
    }
  }

  return {
    get up() {
      return up
    },
    observe: set,
    start() {
      if (timer !== undefined) return
      // A quarter of the interval: an idle bridge notices a dead (or returned) Kafka within about 1.25 intervals.
      timer = setInterval(() => void tick(), Math.max(50, Math.floor(intervalMs / 4)))
      timer.unref()
    },
    stop() {
      clearInterval(timer)
      timer = undefined
    },
  }
}
