#!/usr/bin/env node
// The installed command: refuses a Node.js too old for the bridge in one line, before any module that needs a newer one loads.
const [major = 0, minor = 0] = process.versions.node.split('.').map(Number)
if (major < 20 || (major === 20 && minor < 15) || (major === 22 && minor < 2) || major === 21) {
  process.stderr.write(`hotel-kafka-bridge: needs Node.js 20.15+ or 22.2+ (zlib.crc32); this is ${process.version}\n`)
  process.exit(2)
}
await import('./main.js')
