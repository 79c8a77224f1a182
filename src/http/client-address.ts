// Whose X-Forwarded-For to believe (http.trustProxy): the client is the right-most address that is not a trusted proxy.
import { createAllowList } from './allow-list.js'

export type TrustProxy = boolean | number | readonly string[]

/**
 * Fastify's trust function, called with the peer (hop 0) and then each X-Forwarded-For address from the right
 * while it answers true: the first address it refuses is the client. Undefined: believe no header at all.
 * (Fastify's own number form trusts nothing, and `true` trusts every hop: neither is what the config means.)
 */
export function trustFunction(trust: TrustProxy): ((address: string, hop: number) => boolean) | undefined {
  if (trust === false || trust === 0) return undefined
  if (trust === true) throw new Error('http.trustProxy: true is refused by the config')
  if (typeof trust === 'number') return (_address, hop) => hop < trust
  const proxies = createAllowList(trust)
  return (address) => proxies.allows(address)
}
