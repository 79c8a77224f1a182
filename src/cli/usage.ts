// A command line that cannot be run as written: exit 2, like a config that does not validate.

export class UsageError extends Error {
  override name = 'UsageError'
}

/** Exit 2 for what the operator typed (usage, config, unknown options), 1 for what went wrong while running. */
export function exitCodeOf(error: unknown): 1 | 2 {
  if (error instanceof UsageError) return 2
  const code = (error as { code?: unknown } | null)?.code
  if (code === 'CONFIG_INVALID') return 2
  if (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS_')) return 2
  return 1
}
