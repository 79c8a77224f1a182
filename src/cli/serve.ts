// `hotel-kafka-bridge serve`: start-up order, listening, and the SIGTERM drain; one process, or a cluster's primary.
import cluster from 'node:cluster'
import { buildApp } from '../app.js'
import { startCluster } from '../cluster/primary.js'
import { runWorker } from '../cluster/worker.js'
import type { BridgeConfig } from '../config/schema.js'
import { loadConfig } from '../config/load.js'
import { BridgeError, ErrorCodes, isBridgeError } from '../errors.js'
import { createLogger, type Logger } from '../observability/logger.js'
import { createReloader, type Reloader } from '../reload/reloader.js'
import { passedSocket } from './listen-socket.js'
import { watchedFiles, watchFiles, type FileWatch } from '../reload/watch.js'

/** Beyond the grace period, the stop's last steps (closing the spool and Kafka's connections) take a moment at most. */
const STOP_MARGIN_MS = 5_000

const LISTEN_PROBLEMS: Record<string, string> = {
  EADDRINUSE: 'the port is already in use (another bridge, or another program)',
  EACCES: 'permission denied (ports below 1024 need privileges)',
  EADDRNOTAVAIL: 'the address is not one of this machine\'s',
  ENOTFOUND: 'the host name does not resolve',
}

function listenFailed(error: unknown, host: string, port: number): BridgeError {
  const code = (error as NodeJS.ErrnoException).code ?? ''
  const where = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`
  return new BridgeError(ErrorCodes.LISTEN_FAILED, `cannot listen on ${where}: ${LISTEN_PROBLEMS[code] ?? (error as Error).message}`, { cause: error })
}

/** A bridge that serves: what a reload and SIGTERM act on, whether one process or a cluster. */
interface Serving {
  reconfigure(next: BridgeConfig): Promise<void>
  /** Resolves with the entries left in the spool. */
  close(): Promise<{ left: number }>
  metrics: Parameters<typeof createReloader>[0]['metrics']
}

/** One process: the spool first (its lock says whether another bridge uses the folder), then the port, then Kafka. */
async function serveAlone(config: BridgeConfig, logger: Logger, fd: number | undefined): Promise<Serving> {
  const app = buildApp(config, { logger })
  // A start that cannot serve fails before it touches Kafka.
  await app.open()
  const { host, port } = config.http
  try {
    // fastify hands the fd to node's server.listen, which takes it before host and port.
    await app.http.listen(fd === undefined ? { host, port } : ({ fd, host: '0.0.0.0' } as { host: string }))
  } catch (error) {
    throw listenFailed(error, host, port)
  }
  await app.start()
  logger.info(fd === undefined ? { host, port, spool: config.spool.dir } : { socket: `fd ${fd} (passed by systemd)`, address: app.http.server.address(), spool: config.spool.dir }, 'listening')
  return { reconfigure: (next) => app.reconfigure(next), close: () => app.close(), metrics: app.metrics }
}

/** http.processes > 1: this process holds the spool and Kafka; its workers listen on the shared port. */
async function serveCluster(config: BridgeConfig, logger: Logger, fd: number | undefined): Promise<Serving> {
  const { host, port } = config.http
  const running = await startCluster(config, logger, fd === undefined ? { host, port } : { fd }).catch((error: unknown) => {
    throw isBridgeError(error) ? error : listenFailed(error, host, port)
  })
  const where = fd === undefined ? { host, port } : { socket: `fd ${fd} (passed by systemd)` }
  logger.info({ ...where, processes: config.http.processes, spool: config.spool.dir }, 'listening')
  return { reconfigure: (next) => running.reconfigure(next), close: () => running.close(), metrics: running.core.metrics }
}

export async function serve(configFile: string | undefined, env: NodeJS.ProcessEnv): Promise<void> {
  if (cluster.isWorker) return runWorker()
  const { config, file, overrides } = loadConfig(configFile, env)
  const logger = createLogger(config.log.level)
  logger.info(
    { config: file ?? '(none)', env: overrides.map((o) => o.variable), sources: config.sources.map((s) => `${s.type}/${s.id}`) },
    'configuration loaded',
  )
  if (config.sources.length === 0) logger.warn('no sources are configured: every POST will be answered 404')

  const fd = passedSocket(env, process.pid)
  // Not inherited by what the bridge starts (its workers included): the socket is this process's.
  delete env['LISTEN_FDS']
  delete env['LISTEN_PID']
  const bridge = config.http.processes > 1 ? await serveCluster(config, logger, fd) : await serveAlone(config, logger, fd)
  let closing = false

  const shutdown = (signal: string): void => {
    if (closing) return
    closing = true
    logger.info({ signal, graceMs: config.shutdownGraceMs }, 'stopping: no new requests; finishing in-flight ones, then replaying the spool while Kafka answers, within the grace period')
    const limitMs = config.shutdownGraceMs + STOP_MARGIN_MS
    const force = setTimeout(() => {
      logger.error({ limitMs }, 'stop did not finish in time; exiting (the spool keeps what it holds)')
      process.exit(1)
    }, limitMs)
    force.unref()
    bridge.close().then(
      ({ left }) => {
        if (left === 0) logger.info('stopped cleanly: the spool is empty')
        else logger.warn({ entries: left, spool: config.spool.dir }, 'stopped with entries left in the spool (Kafka did not answer, the grace period ran out, or their topic is held): they are replayed when a bridge starts on this folder')
        process.exit(0)
      },
      (error: unknown) => {
        logger.error({ err: error }, 'error while stopping')
        process.exit(1)
      },
    )
  }
  const reloader = createReloader({ load: () => loadConfig(configFile, env).config, apply: (next) => bridge.reconfigure(next), initial: config, logger, metrics: bridge.metrics })
  const watching = followFiles(reloader, file, logger)
  process.on('SIGHUP', () => void reloader.reload('SIGHUP').then(watching.update))
  process.on('SIGTERM', () => shutdown('SIGTERM'))
  process.on('SIGINT', () => shutdown('SIGINT'))
  process.on('uncaughtException', (error) => {
    logger.fatal({ err: error }, 'uncaught exception')
    process.exit(1)
  })
  process.on('unhandledRejection', (reason) => {
    logger.error({ err: reason }, 'unhandled rejection')
  })
}

/** reload.watch: a reload whenever a watched file changes; started and stopped as reloads turn the option on and off. */
function followFiles(reloader: Reloader, configFile: string | undefined, logger: Logger): { update: () => void } {
  let watch: FileWatch | undefined
  const update = (): void => {
    const { reload } = reloader.current
    if (reload.watch && watch === undefined) {
      watch = watchFiles(() => watchedFiles(configFile, reloader.current), reload.watchIntervalMs, () => void reloader.reload('file change').then(update))
      logger.info({ files: watchedFiles(configFile, reloader.current), intervalMs: reload.watchIntervalMs }, 'reloading when these files change')
    } else if (!reload.watch && watch !== undefined) {
      watch.stop()
      watch = undefined
    }
  }
  update()
  return { update }
}
