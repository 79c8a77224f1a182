// What `schemas list|check|register` ask a registry: a subject's latest version, its compatibility level, a compatibility test.
import type { RegistryHttp } from './registry-http.js'

export interface RegisteredVersion {
  version: number
  id: number
  schema: string
}

export interface RegistryAdmin {
  /** The subject's latest version, or undefined when the subject does not exist. */
  latest(subject: string): Promise<RegisteredVersion | undefined>
  /** The subject's own compatibility level, or the registry's global one. */
  compatibility(subject: string): Promise<string>
  /** The registry's verdict on `schemaText` under the subject's level (a subject that does not exist takes anything). */
  isCompatible(subject: string, schemaText: string): Promise<boolean>
  /** The version and id under which the subject holds exactly this schema, if it does. */
  lookup(subject: string, schemaText: string): Promise<{ version: number; id: number } | undefined>
}

export function createRegistryAdmin(http: RegistryHttp): RegistryAdmin {
  const path = (subject: string): string => `/subjects/${encodeURIComponent(subject)}`
  return {
    async latest(subject) {
      const answer = await http.call('GET', `${path(subject)}/versions/latest`, subject)
      if (answer.status === 404) return undefined
      const { version, id, schema } = answer.body
      if (answer.status !== 200 || typeof version !== 'number' || typeof id !== 'number' || typeof schema !== 'string') {
        throw http.failure(answer, subject, 'reading the latest version of')
      }
      return { version, id, schema }
    },
    async compatibility(subject) {
      for (const url of [`/config/${encodeURIComponent(subject)}`, '/config']) {
        const answer = await http.call('GET', url, subject)
        const level = answer.body['compatibilityLevel'] ?? answer.body['compatibility']
        if (answer.status === 200 && typeof level === 'string') return level
        if (answer.status !== 404) throw http.failure(answer, subject, 'reading the compatibility level of')
      }
      return 'BACKWARD'
    },
    async isCompatible(subject, schemaText) {
      const answer = await http.call('POST', `/compatibility${path(subject)}/versions/latest?verbose=true`, subject, { schema: schemaText })
      if (answer.status === 404) return true
      if (answer.status !== 200 || typeof answer.body['is_compatible'] !== 'boolean') throw http.failure(answer, subject, 'testing compatibility with')
      return answer.body['is_compatible']
    },
    async lookup(subject, schemaText) {
      const answer = await http.call('POST', path(subject), subject, { schema: schemaText })
      if (answer.status === 404) return undefined
      const { version, id } = answer.body
      if (answer.status !== 200 || typeof version !== 'number' || typeof id !== 'number') throw http.failure(answer, subject, 'looking up the schema of')
      return { version, id }
    },
  }
}
