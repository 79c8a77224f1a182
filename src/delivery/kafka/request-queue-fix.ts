// kafkajs 2.2.4's request queue without its 1 ms timer loop: a check for pending requests is scheduled only when one waits.
import { createRequire } from 'node:module'

/** What the fix touches of kafkajs's RequestQueue (src/network/requestQueue/index.js; one per broker connection). */
interface RequestQueue {
  pending: unknown[]
  throttledUntil: number
  throttleCheckTimeoutId: NodeJS.Timeout | null
  checkPendingRequests(): void
  scheduleCheckPendingRequests(): void
}

/** kafkajs's own pause between checks while requests wait behind the in-flight limit. */
const CHECK_PENDING_MS = 10

/**
 * kafkajs schedules the next check after every check and every response, pending requests or not, with a delay of
 * `throttledUntil - now` (negative unless Kafka throttles): each connection then runs a 1 ms timer for as long as it
 * is open: an idle bridge here took 47 ms of CPU a second with it, 18 without, and the loop turned once more a ms
 * (kafkajs issues #1556, #1704; the fix of PR #1667 is not released). A check is needed only while a request waits.
 */
function scheduleCheckPendingRequests(this: RequestQueue): void {
  if (this.pending.length === 0 || this.throttleCheckTimeoutId !== null) return
  const throttledForMs = this.throttledUntil - Date.now()
  this.throttleCheckTimeoutId = setTimeout(() => {
    this.throttleCheckTimeoutId = null
    this.checkPendingRequests()
  }, throttledForMs > 0 ? throttledForMs : CHECK_PENDING_MS)
}

/** kafkajs's RequestQueue class, its scheduling replaced (once, for every client of the process). */
export const RequestQueueClass = createRequire(import.meta.url)('kafkajs/src/network/requestQueue/index.js') as { prototype: RequestQueue } & (new (options: object) => RequestQueue)
RequestQueueClass.prototype.scheduleCheckPendingRequests = scheduleCheckPendingRequests
