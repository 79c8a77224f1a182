// Loads the YAML file, applies the environment, validates once and freezes the result.
import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { parse as parseYaml, YAMLParseError } from 'yaml'
import { BridgeError, ErrorCodes } from '../errors.js'
import { applyEnvOverrides, StrayVariablesError, type EnvOverride } from './env.js'
import { builtInSources, type SourceRegistry } from '../sources/index.js'
import { configSchemaFor, type BridgeConfig } from './schema.js'

export interface LoadedConfig {
  config: BridgeConfig
  file: string | undefined
  overrides: EnvOverride[]
}

function invalid(message: string, cause?: unknown): BridgeError {
  return new BridgeError(ErrorCodes.CONFIG_INVALID, message, { cause })
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value)
    for (const child of Object.values(value)) deepFreeze(child)
  }
  return value
}

export function formatPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>((out, key) => (typeof key === 'number' ? `${out}[${key}]` : out === '' ? String(key) : `${out}.${String(key)}`), '')
}

/** One schema per registry of senders: sources are validated by the options of their own sender. */
const schemas = new WeakMap<SourceRegistry, ReturnType<typeof configSchemaFor>>()
function schemaFor(sources: SourceRegistry): ReturnType<typeof configSchemaFor> {
  let schema = schemas.get(sources)
  if (schema === undefined) schemas.set(sources, (schema = configSchemaFor(sources.components)))
  return schema
}

/** Validates an already-parsed object (tests build configs this way), for the built-in senders or `sources`. */
export function validateConfig(raw: unknown, origin = 'config', overrides: readonly EnvOverride[] = [], sources: SourceRegistry = builtInSources): BridgeConfig {
  const result = schemaFor(sources).safeParse(raw ?? {})
  if (!result.success) {
    const lines = result.error.issues.map((issue) => {
      const key = formatPath(issue.path)
      // A value from the environment is fixed there, not in the file: say which variable set it.
      const from = overrides.find((o) => key === formatPath(o.path) || key.startsWith(`${formatPath(o.path)}[`))
      return `  - ${key === '' ? '(top level)' : key}: ${issue.message}${from === undefined ? '' : ` (set by ${from.variable})`}`
    })
    throw invalid(`${origin} is invalid:\n${lines.join('\n')}`)
  }
  return deepFreeze(result.data as BridgeConfig)
}

export function loadConfig(file: string | undefined, env: NodeJS.ProcessEnv, sources: SourceRegistry = builtInSources): LoadedConfig {
  let raw: unknown = {}
  let path: string | undefined
  if (file !== undefined) {
    path = resolve(file)
    let text: string
    try {
      text = readFileSync(path, 'utf8')
    } catch (error) {
      throw invalid(`cannot read config file ${path}: ${(error as Error).message}`, error)
    }
    try {
      raw = parseYaml(text) ?? {}
    } catch (error) {
      const where = error instanceof YAMLParseError && error.linePos ? ` at line ${error.linePos[0].line}` : ''
      throw invalid(`config file ${path} is not valid YAML${where}: ${(error as Error).message}`, error)
    }
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
      throw invalid(`config file ${path} must hold a YAML mapping at the top level`)
    }
  }
  let overrides: EnvOverride[]
  try {
    overrides = applyEnvOverrides(raw as Record<string, unknown>, env, sources.components)
  } catch (error) {
    if (!(error instanceof StrayVariablesError)) throw error
    throw invalid(`the environment is invalid:\n${error.lines.join('\n')}`)
  }
  const config = validateConfig(raw, path === undefined ? 'config (from the environment)' : `config file ${path}`, overrides, sources)
  return { config, file: path, overrides }
}
