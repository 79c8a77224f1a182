// Source secrets from the URL or headers (token query, Bearer, Basic password), compared in constant time.
import { hash, timingSafeEqual } from 'node:crypto'

export interface SecretCheck {
  /** True when `presented` equals one of the source's secrets. Every secret is compared, whatever matches. */
  matches(presented: string | undefined): boolean
}

// One-shot: a third cheaper than createHash().update().digest(), at every request.
const digest = (value: string): Buffer => hash('sha256', value, 'buffer')

export function createSecretCheck(secrets: readonly string[]): SecretCheck {
  // Comparing fixed-length digests keeps the time independent of the secrets' lengths too.
  const digests = secrets.map(digest)
  return {
    matches(presented) {
      if (presented === undefined) return false
      const given = digest(presented)
      let ok = false
      for (const d of digests) ok = timingSafeEqual(d, given) || ok
      return ok
    },
  }
}

/** The secret a sender presents: `?token=`, `Authorization: Bearer …`, or the password of Basic auth (user ignored). */
export function presentedSecret(authorization: string | undefined, token: unknown): string | undefined {
  if (typeof token === 'string' && token !== '') return token
  if (Array.isArray(token) && typeof token[0] === 'string') return token[0]
  if (authorization === undefined) return undefined
  const space = authorization.indexOf(' ')
  if (space === -1) return undefined
  const scheme = authorization.slice(0, space).toLowerCase()
  const credentials = authorization.slice(space + 1).trim()
  if (scheme === 'bearer') return credentials === '' ? undefined : credentials
  if (scheme === 'basic') {
    const decoded = Buffer.from(credentials, 'base64').toString('utf8')
    const colon = decoded.indexOf(':')
    return colon === -1 ? undefined : decoded.slice(colon + 1)
  }
  return undefined
}
