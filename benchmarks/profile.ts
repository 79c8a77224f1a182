// Where a V8 .cpuprofile's time went: self time per function, as a share of the samples (idle and GC included).
import { readFileSync } from 'node:fs'

/** Self time per function in a V8 .cpuprofile, as a share of the samples. */
export function topSelfTime(file: string, n = 15): string[] {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as { nodes: { id: number; hitCount: number; callFrame: { functionName: string; url: string; lineNumber: number } }[] }
  const byFunction = new Map<string, number>()
  let total = 0
  for (const node of profile.nodes) {
    total += node.hitCount
    const { functionName, url, lineNumber } = node.callFrame
    const where = url === '' ? '' : ` ${url.replace(/^.*\/(node_modules|dist|node:)/, '$1').replace(/^file:\/\//, '')}:${lineNumber + 1}`
    const key = `${functionName || '(anonymous)'}${where}`
    byFunction.set(key, (byFunction.get(key) ?? 0) + node.hitCount)
  }
  return [...byFunction]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([key, hits]) => `${((100 * hits) / total).toFixed(1).padStart(5)} %  ${key}`)
}

