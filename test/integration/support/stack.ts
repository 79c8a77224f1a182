// Drives the real local stack from tests: crash the broker, stop the registry, bring them back.
import { execFile, execFileSync } from 'node:child_process'
import { promisify } from 'node:util'
import { inject } from 'vitest'

const env = (): NodeJS.ProcessEnv => ({ ...process.env, ...inject('stackEnv') })

export function stack(...args: string[]): void {
  execFileSync('bash', [inject('stackScript'), ...args], { stdio: ['ignore', 'ignore', 'inherit'], timeout: 180_000, env: env() })
}

const execFileAsync = promisify(execFile)

/** Like stack(), without blocking the test's event loop: requests in flight meanwhile keep being answered and read. */
export async function stackAsync(...args: string[]): Promise<void> {
  await execFileAsync('bash', [inject('stackScript'), ...args], { timeout: 180_000, env: env() })
}
