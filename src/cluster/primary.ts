// The primary of a cluster (http.processes > 1): forks the workers that serve HTTP on the shared port, and holds for
// them the core: one Kafka producer, one spool, one readiness. A sender that waits for each answer keeps its order,
// whichever worker takes each request, because every record is stored here, in the order the answers allow.
import cluster, { type Worker } from 'node:cluster'
import { AggregatorRegistry, type Registry } from 'prom-client'
import { buildCore, type Core } from '../app.js'
import { loadSchemaFiles } from '../avro/schemas.js'
import type { BridgeConfig } from '../config/schema.js'
import { waitAtMost } from '../deadline.js'
import { httpsCertificate } from '../http/server.js'
import type { Logger } from '../observability/logger.js'
import { builtInSources } from '../sources/index.js'
import { openChannel, type Channel, type Port } from './channel.js'
import { fromWire, type WireRecord } from './wire.js'
import type { ListenOn } from './worker.js'

/** A worker that died is replaced after this pause: a worker that cannot start must not spin. */
const RESTART_PAUSE_MS = 1_000
/** How long a failed start waits for the other workers to leave. */
const WORKER_EXIT_MS = 2_000

export interface Cluster {
  core: Core
  /** Validated and restart-free: checks the certificate and topic overrides, prepares new topics, then every worker takes it. */
  reconfigure(next: BridgeConfig): Promise<void>
  /** Workers stop accepting and finish in-flight requests; then the core replays and closes, all within shutdownGraceMs. */
  close(): Promise<{ left: number }>
}

type MetricsJson = Awaited<ReturnType<Registry['getMetricsAsJSON']>>

interface Running {
  worker: Worker
  channel: Channel
  /** Messages sent to a worker before it says it listens for them are lost: `booting` until then, then sent `start`. */
  phase: 'booting' | 'started'
}

/** Resolves once the worker has exited: it leaves when its channel closes (worker.ts). */
function disconnected(worker: Worker): Promise<void> {
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()))
  if (worker.isConnected()) worker.disconnect()
  return exited
}

export async function startCluster(config: BridgeConfig, logger: Logger, listen: ListenOn): Promise<Cluster> {
  // A certificate that cannot serve fails the start here, once, rather than in every worker.
  if (config.http.tls !== undefined) httpsCertificate(config.http.tls)
  const schemas = loadSchemaFiles(builtInSources.schemaFiles)
  const core = buildCore(config, { logger, schemas })
  const unwire = fromWire(new Map([...schemas.values()].map((schema) => [schema.hash, schema])))
  await core.open()

  // Each worker accepts on the shared socket itself: a busy worker takes fewer connections, and the primary, which
  // produces for them all, is not also handing every connection over.
  cluster.schedulingPolicy = cluster.SCHED_NONE
  // Buffers cross as bytes, not as JSON arrays of numbers.
  cluster.setupPrimary({ serialization: 'advanced' })

  let live = config
  let stopping = false
  const running = new Set<Running>()
  const started = (): Running[] => [...running].filter((entry) => entry.phase === 'started')

  const metricsText = async (): Promise<string> => {
    const parts = await Promise.all(started().map(({ channel }) => channel.call<MetricsJson>('metricsJson').catch((): MetricsJson => [])))
    return AggregatorRegistry.aggregate([await core.metrics.registry.getMetricsAsJSON(), ...parts]).metrics()
  }

  /** A worker in place of one that died; one that cannot start is stopped, and so replaced again after the pause. */
  function replace(): void {
    if (stopping) return
    const { worker, started } = fork()
    started.catch((error: unknown) => {
      logger.error({ err: error }, 'a replacement worker could not start')
      worker.kill()
    })
  }

  /** Forks a worker; `started` resolves once it listens with the running config. */
  function fork(): Running & { started: Promise<void> } {
    const worker = cluster.fork()
    let ready: () => void = () => {}
    const listening = new Promise<void>((resolve) => (ready = resolve))
    const channel = openChannel(worker as Port, {
      // A message sent before the worker's code listens would be lost: it says when it listens.
      ready: () => ready(),
      deliver: (records: WireRecord[], receivedAt: number) => core.sink.deliver(records.map(unwire), new Date(receivedAt)),
      readiness: () => core.readiness(),
      metrics: metricsText,
      heard: (sourceId: string) => core.heard(sourceId),
    })
    const entry: Running = { worker, channel, phase: 'booting' }
    running.add(entry)
    // An answer to a worker that has just died has nowhere to go.
    worker.on('error', () => {})
    worker.on('exit', (code, signal) => {
      running.delete(entry)
      channel.close('the worker stopped')
      if (stopping) return
      logger.error({ worker: worker.id, code, signal }, 'a worker stopped unexpectedly: starting another (its unanswered requests were not acknowledged)')
      setTimeout(replace, RESTART_PAUSE_MS).unref()
    })
    const started = listening.then(() => {
      entry.phase = 'started'
      return channel.call<void>('start', live, listen)
    })
    return Object.assign(entry, { started })
  }

  try {
    await Promise.all(Array.from({ length: config.http.processes }, () => fork().started))
  } catch (error) {
    // The others are let go before the primary exits: a worker still asking it for the port would fail noisily.
    stopping = true
    await waitAtMost(Promise.all([...running].map(({ worker }) => disconnected(worker))), WORKER_EXIT_MS)
    throw error
  }
  await core.start()

  return {
    core,
    async reconfigure(next) {
      if (next.http.tls !== undefined) httpsCertificate(next.http.tls)
      await core.prepareReload(next)
      live = next
      // A worker still booting takes `live` when it starts.
      await Promise.all(started().map(({ channel }) => channel.call('reconfigure', next)))
      core.reloaded(next)
    },
    async close() {
      const until = performance.now() + config.shutdownGraceMs
      stopping = true
      for (const { worker, phase } of running) if (phase === 'booting') worker.process.kill('SIGKILL')
      const answered = await Promise.all(started().map(({ channel }) => channel.call<boolean>('stop', Math.max(0, until - performance.now())).catch(() => false)))
      if (answered.includes(false)) logger.warn({ graceMs: config.shutdownGraceMs }, 'requests still in flight when the grace period ended are answered 503')
      await waitAtMost(Promise.all([...running].map(({ worker }) => disconnected(worker))), Math.max(0, until - performance.now()))
      // A worker that did not leave by the deadline has nothing in flight the primary will answer any more.
      for (const { worker } of running) worker.process.kill('SIGKILL')
      return core.close(until)
    },
  }
}
