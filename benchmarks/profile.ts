// Where a V8 .cpuprofile's time went: self time per function (idle and GC included), or inclusive time while measured.
import { readFileSync } from 'node:fs'

interface ProfileNode {
  id: number
  hitCount: number
  children?: number[]
  callFrame: { functionName: string; url: string; lineNumber: number }
}

/** A function as the tables name it: its name, and its file (under node_modules, dist or node:) and line. */
function frameName({ callFrame: { functionName, url, lineNumber } }: ProfileNode): string {
  const where = url === '' ? '' : ` ${url.replace(/^.*\/(node_modules|dist|node:)/, '$1').replace(/^file:\/\//, '')}:${lineNumber + 1}`
  return `${functionName || '(anonymous)'}${where}`
}

/** Self time per function in a V8 .cpuprofile, as a share of the samples. */
export function topSelfTime(file: string, n = 15): string[] {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as { nodes: ProfileNode[] }
  const byFunction = new Map<string, number>()
  let total = 0
  for (const node of profile.nodes) {
    total += node.hitCount
    const key = frameName(node)
    byFunction.set(key, (byFunction.get(key) ?? 0) + node.hitCount)
  }
  return [...byFunction]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([key, hits]) => `${((100 * hits) / total).toFixed(1).padStart(5)} %  ${key}`)
}

/**
 * Inclusive time per function (itself and all it calls, once per stack however deep it recurses), as a share of the
 * busy samples (idle left out) from `fromMs` after the profile began: where the steady state's work goes.
 */
export function topInclusive(file: string, n = 25, fromMs = 0): string[] {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[] }
  const byId = new Map(profile.nodes.map((node) => [node.id, node]))
  const parentOf = new Map<number, number>()
  for (const node of profile.nodes) for (const child of node.children ?? []) parentOf.set(child, node.id)
  const samplesAt = new Map<number, number>()
  let elapsedUs = 0
  profile.samples.forEach((id, i) => {
    elapsedUs += profile.timeDeltas[i] ?? 0
    if (elapsedUs >= fromMs * 1000) samplesAt.set(id, (samplesAt.get(id) ?? 0) + 1)
  })
  const inclusive = new Map<string, number>()
  let busy = 0
  for (const [id, hits] of samplesAt) {
    if (byId.get(id)!.callFrame.functionName === '(idle)') continue
    busy += hits
    const counted = new Set<string>()
    for (let at: number | undefined = id; at !== undefined; at = parentOf.get(at)) {
      const key = frameName(byId.get(at)!)
      if (counted.has(key)) continue
      counted.add(key)
      inclusive.set(key, (inclusive.get(key) ?? 0) + hits)
    }
  }
  inclusive.delete('(root)')
  return [...inclusive]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([key, hits]) => `${((100 * hits) / busy).toFixed(1).padStart(5)} %  ${key}`)
}
