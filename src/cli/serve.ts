// `hotel-kafka-bridge serve`: start-up order, listening, and the SIGTERM drain.
import { buildApp } from '../app.js'
import { loadConfig } from '../config/load.js'
import { createLogger } from '../observability/logger.js'

const DRAIN_LIMIT_MS = 30_000

export async function serve(configFile: string | undefined, env: NodeJS.ProcessEnv): Promise<void> {
  const { config, file, overrides } = loadConfig(configFile, env)
  const logger = createLogger(config.log.level)
  logger.info(
    { config: file ?? '(none)', env: overrides.map((o) => o.variable), sources: config.sources.map((s) => `${s.type}/${s.id}`) },
    'configuration loaded',
  )
  if (config.sources.length === 0) logger.warn('no sources are configured: every POST will be answered 404')

  const app = buildApp(config, { logger })
  let closing = false
  // Opens the spool (fatal if it cannot be opened); Kafka and the registry are reached in the background.
  await app.start()
  await app.http.listen({ host: config.http.host, port: config.http.port })
  logger.info({ host: config.http.host, port: config.http.port, spool: config.spool.dir }, 'listening')

  const shutdown = (signal: string): void => {
    if (closing) return
    closing = true
    logger.info({ signal }, 'draining: no new requests; finishing in-flight ones and flushing to Kafka')
    const force = setTimeout(() => {
      logger.error({ limitMs: DRAIN_LIMIT_MS }, 'drain did not finish in time; exiting')
      process.exit(1)
    }, DRAIN_LIMIT_MS)
    force.unref()
    app.close().then(
      () => {
        logger.info('stopped cleanly')
        process.exit(0)
      },
      (error: unknown) => {
        logger.error({ err: error }, 'error while stopping')
        process.exit(1)
      },
    )
  }
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
