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
}

export function createSourceGuard(sources: readonly SourceConfig[]): SourceGuard {
  const byKey = new Map<string, GuardedSource>()
  for (const source of sources) {
    byKey.set(`${source.type}/${source.id}`, {
      source,
      allowList: createAllowList(source.allowCidrs),
      secrets: createSecretCheck(source.secrets),
      rateLimit: createRateLimit(source.rateLimit),
    })
  }
  return {
    admit(type, id, request) {
      const guarded = byKey.get(`${type}/${id}`)
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
