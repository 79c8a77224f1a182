// A source's CIDR allow-list, checked with node's BlockList (IPv4-mapped IPv6 addresses count as IPv4).
import { BlockList, isIPv4 } from 'node:net'

export interface AllowList {
  allows(address: string | undefined): boolean
}

export function createAllowList(cidrs: readonly string[] | undefined): AllowList {
  if (cidrs === undefined || cidrs.length === 0) return { allows: () => true }
  const list = new BlockList()
  for (const cidr of cidrs) {
    const [address = '', bits] = cidr.split('/')
    const family = isIPv4(address) ? 'ipv4' : 'ipv6'
    if (bits === undefined) list.addAddress(address, family)
    else list.addSubnet(address, Number(bits), family)
  }
  return {
    allows(address) {
      if (address === undefined) return false
      const plain = address.startsWith('::ffff:') && isIPv4(address.slice(7)) ? address.slice(7) : address
      return list.check(plain, isIPv4(plain) ? 'ipv4' : 'ipv6')
    },
  }
}
