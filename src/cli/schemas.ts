// `hotel-kafka-bridge schemas list|check|register`: the subjects the configured sources write, against the registry and the published versions.
import { join } from 'node:path'
import { fullIncompatibilities, type Incompatibility } from '../avro/compatibility.js'
import { publishedVersions } from '../avro/history.js'
import { createRegistryAdmin, type RegistryAdmin } from '../avro/registry-admin.js'
import { createRegistryHttp, readRegistryTls } from '../avro/registry-http.js'
import { createSchemaIds } from '../avro/registry.js'
import { loadSchemaFiles, schemaHash, SCHEMAS_DIR } from '../avro/schemas.js'
import type { BridgeConfig } from '../config/schema.js'
import { isBridgeError } from '../errors.js'
import { plannedTopics } from '../pipeline.js'
import { builtInSources, type SourceRegistry } from '../sources/index.js'

export interface SchemasOptions {
  /** A folder of .avsc files (and its history/) to use instead of the package's schemas/. */
  schemasDir?: string | undefined
  offline?: boolean
  json?: boolean
  sources?: SourceRegistry
  out?: (line: string) => void
  err?: (line: string) => void
}

interface Subject {
  subject: string
  name: string
  /** The compact text: what is registered. */
  text: string
  schema: unknown
}

function subjectsOf(config: BridgeConfig, options: SchemasOptions): Subject[] {
  const sources = options.sources ?? builtInSources
  const files = new Map(sources.schemaFiles.map((f) => [f.name, f.file]))
  return plannedTopics(config, sources).map(({ topic, schema: name }) => {
    const file = options.schemasDir === undefined ? files.get(name)! : join(options.schemasDir, `${name}.avsc`)
    const loaded = loadSchemaFiles([{ name, file }]).get(name)!
    return { subject: `${topic}-value`, name, text: loaded.text, schema: JSON.parse(loaded.text) as unknown }
  })
}

function adminFor(config: BridgeConfig): RegistryAdmin {
  return createRegistryAdmin(createRegistryHttp({ ...config.schemaRegistry, tls: readRegistryTls(config.schemaRegistry) }))
}

const unreachable = (error: unknown): boolean => isBridgeError(error) && error.retriable

/** Which readers a level protects: BACKWARD, new consumers of old records; FORWARD, old consumers of new; FULL, both. */
function guarded(level: string, problem: Incompatibility): boolean {
  if (level.startsWith('FULL')) return true
  if (level.startsWith('BACKWARD')) return problem.direction === 'new consumers reading old records'
  if (level.startsWith('FORWARD')) return problem.direction === 'old consumers reading new records'
  return false
}

/** `schemas list`: each subject, the local schema's fingerprint, the registry's latest version and id, and the level. */
export async function schemasList(config: BridgeConfig, options: SchemasOptions = {}): Promise<number> {
  const out = options.out ?? ((line) => process.stdout.write(`${line}\n`))
  const err = options.err ?? ((line: string) => process.stderr.write(`${line}\n`))
  const admin = adminFor(config)
  const rows: Record<string, unknown>[] = []
  for (const s of subjectsOf(config, options)) {
    const fingerprint = schemaHash(s.text).slice(0, 16)
    try {
      const [latest, level, registered] = await Promise.all([admin.latest(s.subject), admin.compatibility(s.subject), admin.lookup(s.subject, s.text)])
      const state = registered === undefined ? (latest === undefined ? 'new subject' : 'not registered') : registered.version === latest?.version ? 'latest' : `registered as version ${registered.version}`
      rows.push({ subject: s.subject, schema: s.name, fingerprint, latestVersion: latest?.version ?? null, latestId: latest?.id ?? null, compatibility: level, local: state })
    } catch (error) {
      if (!unreachable(error)) throw error
      err(`hotel-kafka-bridge: ${(error as Error).message}`)
      return 2
    }
  }
  if (options.json === true) out(JSON.stringify(rows))
  else for (const r of rows) out(`${String(r['subject'])}  ${String(r['schema'])} ${String(r['fingerprint'])}  latest: ${r['latestVersion'] === null ? '-' : `v${String(r['latestVersion'])} id ${String(r['latestId'])}`}  ${String(r['compatibility'])}  local schema: ${String(r['local'])}`)
  return 0
}

/**
 * `schemas check`: 0 when every subject takes the local schema, 1 naming subject, field and reason when one does
 * not, 2 when neither the registry nor the published history can say.
 */
export async function schemasCheck(config: BridgeConfig, options: SchemasOptions = {}): Promise<number> {
  const out = options.out ?? ((line) => process.stdout.write(`${line}\n`))
  const err = options.err ?? ((line) => process.stderr.write(`${line}\n`))
  const subjects = subjectsOf(config, options)
  if (options.offline !== true) {
    const admin = adminFor(config)
    try {
      let failed = false
      for (const s of subjects) {
        if (await admin.isCompatible(s.subject, s.text)) {
          out(`ok    ${s.subject}`)
          continue
        }
        failed = true
        const [level, latest] = await Promise.all([admin.compatibility(s.subject), admin.latest(s.subject)])
        const reasons = latest === undefined ? [] : fullIncompatibilities(JSON.parse(latest.schema) as unknown, s.schema).filter((p) => guarded(level, p))
        const why = reasons.length > 0 ? reasons.map((p) => p.reason).join('; ') : `refused by the registry under ${level}`
        out(`FAIL  ${s.subject}: ${why} (registry ${level}, latest version ${latest?.version ?? '-'})`)
      }
      return failed ? 1 : 0
    } catch (error) {
      if (!unreachable(error)) throw error
      err(`hotel-kafka-bridge: ${(error as Error).message}; checking against the published versions instead`)
    }
  }
  // Offline: FULL_TRANSITIVE against every published version kept in the repository.
  const historyDir = options.schemasDir ?? SCHEMAS_DIR
  let failed = false
  for (const s of subjects) {
    const versions = publishedVersions(s.name, historyDir)
    if (versions.length === 0 && options.schemasDir !== undefined) versions.push(...publishedVersions(s.name))
    if (versions.length === 0) {
      err(`hotel-kafka-bridge: no published versions of ${s.name} under ${join(historyDir, 'history', s.name)} to check ${s.subject} against`)
      return 2
    }
    const problems = versions.flatMap((v) => fullIncompatibilities(v.schema, s.schema).map((p) => `${p.reason} (against v${v.version}: ${p.direction})`))
    if (problems.length === 0) out(`ok    ${s.subject} (FULL_TRANSITIVE with v1-v${versions.at(-1)!.version})`)
    else {
      failed = true
      out(`FAIL  ${s.subject}: ${[...new Set(problems)].join('; ')}`)
    }
  }
  return failed ? 1 : 0
}

/** `schemas register`: what `serve` does at start-up, printing subject, version and id. */
export async function schemasRegister(config: BridgeConfig, options: SchemasOptions = {}): Promise<number> {
  const out = options.out ?? ((line) => process.stdout.write(`${line}\n`))
  const err = options.err ?? ((line) => process.stderr.write(`${line}\n`))
  const ids = createSchemaIds({ ...config.schemaRegistry, tls: readRegistryTls(config.schemaRegistry) })
  const admin = adminFor(config)
  let refused = false
  for (const s of subjectsOf(config, options)) {
    try {
      const id = await ids.verify(s.subject, s.text)
      const found = await admin.lookup(s.subject, s.text)
      out(`${s.subject}  version ${found?.version ?? '?'}  id ${id}`)
    } catch (error) {
      if (unreachable(error)) {
        err(`hotel-kafka-bridge: ${(error as Error).message}`)
        return 2
      }
      refused = true
      out(`FAIL  ${s.subject}: ${(error as Error).message}`)
    }
  }
  return refused ? 1 : 0
}
