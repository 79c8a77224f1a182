// Who may post to a source: it must exist for this sender type, come from an allowed address, know a secret, and be within its rate.
import type { SourceConfig } from '../config/schema.js'
import { BridgeError, ErrorCodes } from '../errors.js'
import { printableId } from '../observability/redact.js'
import { createAllowList, type AllowList } from './allow-list.js'
import { createSecretCheck, presentedSecret, type SecretCheck } from './auth.js'
import { createRateLimit, type RateLimit } from './rate-limit.js'

interface GuardedSource {
  source: SourceConfig
  allowList: AllowList
  secrets: SecretCheck
  rateLimit: RateLimit
}

export interface SourceGuard {
  /** The source a request may post to, or a BridgeError (404, 403, 401, 429) saying why not. */
  admit(type: string, id: string, request: { ip: string | undefined; authorization: string | undefined; token: unknown }): SourceConfig
  /**
   * The sources of a reloaded config, from the next request on (one assignment: a request sees the old set or the
   * new, never a mix). A source whose rate limit is unchanged keeps its bucket, so a reload is no burst allowance.
   */
  replace(sources: readonly SourceConfig[]): void
}

const keyOf = (type: string, id: string): string => `${type}/${id}`

function guarded(sources: readonly SourceConfig[], previous: ReadonlyMap<string, GuardedSource>): Map<string, GuardedSource> {
  const byKey = new Map<string, GuardedSource>()
  for (const source of sources) {
    const before = previous.get(keyOf(source.type, source.id))
    const sameRate = before !== undefined && JSON.stringify(before.source.rateLimit) === JSON.stringify(source.rateLimit)
    byKey.set(keyOf(source.type, source.id), {
      source,
      allowList: createAllowList(source.allowCidrs),
      secrets: createSecretCheck(source.secrets),
      rateLimit: sameRate ? before.rateLimit : createRateLimit(source.rateLimit),
    })
  }
  return byKey
}

export function createSourceGuard(sources: readonly SourceConfig[]): SourceGuard {
  let byKey = guarded(sources, new Map())
  return {
    replace(next) {
      byKey = guarded(next, byKey)
    },
    admit(type, id, request) {
      const guarded = byKey.get(keyOf(type, id))
      // An id that is not even valid may be a secret pasted into the URL: it is not repeated back.
      if (guarded === undefined) throw new BridgeError(ErrorCodes.UNKNOWN_SOURCE, `no ${type} source "${printableId(id)}" is configured`)
      if (!guarded.allowList.allows(request.ip)) {
        throw new BridgeError(ErrorCodes.FORBIDDEN, `address ${request.ip ?? 'unknown'} is not allowed for source "${id}"`)
      }
      if (!guarded.secrets.matches(presentedSecret(request.authorization, request.token))) {
        throw new BridgeError(ErrorCodes.UNAUTHORIZED, `missing or wrong secret for source "${id}"`)
      }
      const taken = guarded.rateLimit.take()
      if (!taken.ok) {
        const error = new BridgeError(ErrorCodes.RATE_LIMITED, `rate limit of source "${id}" exceeded`)
        Object.assign(error, { retryAfterSeconds: taken.retryAfterSeconds })
        throw error
      }
      return guarded.source
    },
  }
}
