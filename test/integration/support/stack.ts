// Drives the real local stack from tests: crash the broker, stop the registry, bring them back.
import { execFileSync } from 'node:child_process'
import { inject } from 'vitest'

export function stack(...args: string[]): void {
  execFileSync('bash', [inject('stackScript'), ...args], { stdio: ['ignore', 'ignore', 'inherit'], timeout: 180_000 })
}
