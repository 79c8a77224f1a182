// Secrets out of URLs by meaning, not spelling: a query key is judged by what it decodes to (node's querystring rules, as the router's).
import { unescape } from 'node:querystring'
import { SOURCE_ID } from '../config/source-common.js'

/** How many rounds of percent-decoding a key gets before it is judged: `%2574oken` is `token` to a careless proxy. */
const DECODE_ROUNDS = 4

function decodedKey(raw: string): string {
  let key = raw
  for (let round = 0; round < DECODE_ROUNDS; round++) {
    const next = unescape(key.replace(/\+/g, ' '))
    if (next === key) break
    key = next
  }
  return key.trim().toLowerCase()
}

/** A query key that may carry a secret, whatever its case or percent-encoding: token, access_token, secret, password, api key… */
export function isSecretKey(raw: string): boolean {
  const key = decodedKey(raw)
  return /token|secret|passw|auth|key|sig/.test(key)
}

const REDACTED = '[redacted]'
const USERINFO = /^([a-z][a-z0-9+.-]*:\/\/)[^/?#]*@/i
const EXTRA_PATH = /^((?:[a-z][a-z0-9+.-]*:\/\/[^/?#]*)?\/v1\/[^/?#]+\/[^/?#]+)\/[^?#]*/i

/**
 * The URL as it may be logged: the value of every secret-looking query parameter and any `user:password@`
 * replaced. Works on the raw request target, so what is logged cannot differ from what was parsed.
 */
export function redactUrl(url: string): string {
  // /v1/{type}/{source} is the whole path: anything after it is a secret pasted into the path by mistake.
  const target = url.replace(USERINFO, `$1${REDACTED}@`).replace(EXTRA_PATH, `$1/${REDACTED}`)
  const q = target.indexOf('?')
  if (q === -1) return redactPathParameters(target)
  const hash = target.indexOf('#', q)
  const query = target.slice(q + 1, hash === -1 ? undefined : hash)
  // `;` separates pairs too for many servers and proxies (`?a=1;token=…`): split on both, keep each separator.
  const redacted = query
    .split(/([&;])/)
    .map((part) => (part === '&' || part === ';' ? part : redactPair(part)))
    .join('')
  return `${redactPathParameters(target.slice(0, q))}?${redacted}`
}

function redactPair(pair: string): string {
  const eq = pair.indexOf('=')
  const key = eq === -1 ? pair : pair.slice(0, eq)
  // A bare key (`?<secret>`) may be the secret itself, pasted without its name.
  if (eq === -1) return isSecretKey(key) || pair.length >= 8 ? REDACTED : pair
  return isSecretKey(key) ? `${key}=${REDACTED}` : pair
}

/** `;token=…` in the path (matrix parameters): the router keeps it in the source id, so it is redacted there too. */
function redactPathParameters(path: string): string {
  return path.replace(/;([^/;=]*)(=[^/;]*)?/g, (match: string, key: string, value: string | undefined) =>
    isSecretKey(key) || (value === undefined && key.length >= 8) ? `;${REDACTED}` : match,
  )
}

/** A path parameter fit to be logged or echoed: a source id as the config allows them, or a placeholder. */
export function printableId(id: string): string {
  return SOURCE_ID.test(id) ? id : '(not a valid source id)'
}
