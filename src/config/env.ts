// Environment overrides: every config key has a BRIDGE_* variable derived from its path.
import { parse as parseYaml } from 'yaml'
import { z } from 'zod'
import { envSegment } from './env-names.js'
import { settingsSchema, type SenderOptions } from './schema.js'
import { sourceCommon } from './source-common.js'

export { envSegment }

type Path = readonly (string | number)[]

export interface EnvOverride {
  variable: string
  path: Path
}


function unwrap(schema: z.ZodType): z.ZodType {
  let current: z.ZodType = schema
  for (;;) {
    if (current instanceof z.ZodOptional || current instanceof z.ZodNullable || current instanceof z.ZodDefault) {
      current = current.unwrap() as z.ZodType
    } else if (current instanceof z.ZodPrefault) {
      current = current.unwrap() as z.ZodType
    } else if (current instanceof z.ZodPipe) {
      // A transform after validation (schemaRegistry's credentials): the keys are those of its input.
      current = current.in as z.ZodType
    } else {
      return current
    }
  }
}

function leaves(schema: z.ZodType, prefix: string[]): { path: string[]; leaf: z.ZodType }[] {
  const inner = unwrap(schema)
  if (inner instanceof z.ZodObject) {
    return Object.entries(inner.shape as Record<string, z.ZodType>).flatMap(([key, child]) => leaves(child, [...prefix, key]))
  }
  return [{ path: prefix, leaf: inner }]
}

const topLevel = leaves(settingsSchema, [])

/** The keys a source can have, over all senders: the common ones and each sender's options. */
function sourceKeysOf(senders: readonly SenderOptions[]): Map<string, z.ZodType> {
  const keys = new Map<string, z.ZodType>()
  for (const shape of [sourceCommon, ...senders.map((s) => s.options)]) {
    for (const [key, child] of Object.entries(shape as Record<string, z.ZodType>)) {
      if (key !== 'id' && key !== 'type') keys.set(key, unwrap(child))
    }
  }
  return keys
}

/** A scalar from the environment: numbers and booleans by their text; anything else stays a string for zod to judge. */
function envScalar(raw: string, leaf: z.ZodType): unknown {
  if (leaf instanceof z.ZodNumber && /^\s*-?\d+(\.\d+)?\s*$/.test(raw)) return Number(raw)
  if (leaf instanceof z.ZodBoolean && /^(true|false)$/i.test(raw.trim())) return raw.trim().toLowerCase() === 'true'
  return raw
}

/**
 * Values are never read as YAML: a secret may start with any character (`@`, `*`, `&`, `[`…) and must be
 * taken as it is. Lists are comma-separated, or a JSON array when one item holds a comma.
 */
function envValue(raw: string, leaf: z.ZodType): unknown {
  if (leaf instanceof z.ZodUnion) {
    // http.trustProxy: false, a number of hops, or a list of addresses; zod judges the result.
    const text = raw.trim()
    if (/^(true|false)$/i.test(text)) return text.toLowerCase() === 'true'
    if (/^\d+$/.test(text)) return Number(text)
    const list = (leaf.options as z.ZodType[]).find((option) => unwrap(option) instanceof z.ZodArray)
    return list === undefined ? raw : envValue(raw, unwrap(list))
  }
  if (leaf instanceof z.ZodArray) {
    const element = unwrap(leaf.element as z.ZodType)
    if (raw.trim().startsWith('[') && raw.trim().endsWith(']')) {
      try {
        const parsed: unknown = JSON.parse(raw)
        if (Array.isArray(parsed)) return parsed
      } catch {
        // not JSON: a plain comma-separated list whose first item starts with "["
      }
    }
    return raw
      .split(',')
      .map((item) => item.trim())
      .filter((item) => item !== '')
      .map((item) => envScalar(item, element))
  }
  if (leaf instanceof z.ZodRecord || leaf instanceof z.ZodObject) {
    // Maps hold no secrets: a YAML flow mapping ({perSecond: 5}) or JSON.
    try {
      return parseYaml(raw) as unknown
    } catch {
      return raw
    }
  }
  return envScalar(raw, leaf)
}

function setPath(target: Record<string, unknown>, path: Path, value: unknown): void {
  let node: Record<string | number, unknown> = target
  path.slice(0, -1).forEach((key) => {
    const next = node[key]
    if (typeof next !== 'object' || next === null) node[key] = {}
    node = node[key] as Record<string | number, unknown>
  })
  node[path[path.length - 1] as string | number] = value
}

/**
 * Applies BRIDGE_* variables to a raw (unvalidated) config object, in place.
 * Sources are addressed by id: BRIDGE_SOURCES_FRONT_DESK_SECRETS=a,b.
 * Returns what was applied, so start-up can log the variable names (never their values).
 */
export function applyEnvOverrides(raw: Record<string, unknown>, env: NodeJS.ProcessEnv, senders: readonly SenderOptions[]): EnvOverride[] {
  const sourceKeys = sourceKeysOf(senders)
  const applied: EnvOverride[] = []
  const known = new Set(['BRIDGE_CONFIG'])
  for (const { path, leaf } of topLevel) {
    const variable = `BRIDGE_${path.map(envSegment).join('_')}`
    known.add(variable)
    const value = env[variable]
    if (value === undefined) continue
    setPath(raw, path, envValue(value, leaf))
    applied.push({ variable, path })
  }
  const sources = Array.isArray(raw['sources']) ? (raw['sources'] as unknown[]) : []
  sources.forEach((source, index) => {
    if (typeof source !== 'object' || source === null) return
    const id = (source as Record<string, unknown>)['id']
    if (typeof id !== 'string') return
    for (const [key, leaf] of sourceKeys) {
      const variable = `BRIDGE_SOURCES_${envSegment(id)}_${envSegment(key)}`
      known.add(variable)
      const value = env[variable]
      if (value === undefined) continue
      ;(source as Record<string, unknown>)[key] = envValue(value, leaf)
      applied.push({ variable, path: ['sources', index, key] })
    }
  })
  const stray = Object.keys(env).filter((name) => name.startsWith('BRIDGE_') && !known.has(name))
  if (stray.length > 0) throw new StrayVariablesError(stray.sort().map((name) => strayMessage(name, known)))
  return applied
}

/** BRIDGE_* variables that set nothing: a typo there would otherwise leave a secret or a broker silently unset. */
export class StrayVariablesError extends Error {
  constructor(readonly lines: string[]) {
    super(lines.join('\n'))
  }
}

function strayMessage(name: string, known: ReadonlySet<string>): string {
  const what = name.startsWith('BRIDGE_SOURCES_') ? 'no configured source and key' : 'no config key'
  let best: string | undefined
  let bestDistance = Math.max(3, Math.floor(name.length / 5))
  for (const candidate of known) {
    const distance = editDistance(name, candidate)
    if (distance <= bestDistance) [best, bestDistance] = [candidate, distance]
  }
  return `  - ${name}: matches ${what}${best === undefined ? '' : ` (did you mean ${best}?)`}`
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const current = [i]
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1))
    }
    previous = current
  }
  return previous[b.length]!
}

/** Every top-level variable name, for the README and `--help`. */
export function envVariableNames(): string[] {
  return topLevel.map(({ path }) => `BRIDGE_${path.map(envSegment).join('_')}`)
}
