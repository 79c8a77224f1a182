// kafkajs's log lines through ours: what the bridge logs itself, where it handles it, is debug here.
import { logLevel, type LogEntry } from 'kafkajs'
import type { Logger } from '../../observability/logger.js'

/**
 * Debug only: warnings about choices made here on purpose (bounded retries, the Java-compatible partitioner),
 * kafkajs's line per failed connection attempt, and its lines per failed request and per retry: the bridge
 * logs an outage or a refusal once itself, where it handles it (STYLE 12): a refused login too (one line per outage,
 * not kafkajs's one per attempt). A reader's consumer that stops ("Crash:") ends its command with the reason (reader.ts).
 */
const QUIET = [/Limiting retries for the idempotent producer/, /switched default partitioner/, /^Connection error/, /^Failed to connect to seed broker/, /^Connection timeout/, /^Response \w+\(key: \d+/, /^Crash: /, /^SASL .*authentication failed/]

export function kafkaLogCreator(logger: Logger) {
  const child = logger.child({ component: 'kafkajs' })
  return () =>
    ({ namespace, level, log }: LogEntry) => {
      const { message, timestamp: _t, logger: _l, ...extra } = log
      const fields = { namespace, ...extra }
      // A retry of the producer's: the call's final outcome is what the bridge acts on and logs.
      const retrying = namespace === 'Producer' && 'retryCount' in extra
      if (retrying || QUIET.some((pattern) => pattern.test(message))) child.debug(fields, message)
      else if (level === logLevel.ERROR) child.error(fields, message)
      else if (level === logLevel.WARN) child.warn(fields, message)
      else if (level === logLevel.INFO) child.info(fields, message)
      else child.debug(fields, message)
    }
}
