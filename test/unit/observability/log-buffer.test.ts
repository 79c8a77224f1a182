// The process logger's stdout is buffered: a line is never lost at exit, and none waits for company for ever.
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const LOGGER = fileURLToPath(new URL('../../../src/observability/logger.ts', import.meta.url))

/** A node process that runs `script` with `log`, the process logger at info; its stdout lines, as they come. */
function child(script: string): { lines: string[]; exited: Promise<NodeJS.Signals | number | null>; kill: () => void } {
  const code = `import { createLogger } from ${JSON.stringify(LOGGER)}; const log = createLogger('info'); ${script}`
  const process_ = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { stdio: ['ignore', 'pipe', 'inherit'] })
  const lines: string[] = []
  let partial = ''
  process_.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    const parts = (partial + chunk).split('\n')
    partial = parts.pop()!
    lines.push(...parts)
  })
  const exited = new Promise<NodeJS.Signals | number | null>((resolve) => process_.once('close', (status, signal) => resolve(signal ?? status)))
  return { lines, exited, kill: () => process_.kill('SIGKILL') }
}

const messages = (lines: readonly string[]): string[] => lines.map((line) => (JSON.parse(line) as { msg: string }).msg)

async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 10))
}

describe('buffered stdout', () => {
  it('writes what is buffered when the process exits', async () => {
    const run = child(`for (let i = 0; i < 3; i++) log.info('line ' + i); process.exit(0)`)
    expect(await run.exited).toBe(0)
    expect(messages(run.lines)).toEqual(['line 0', 'line 1', 'line 2'])
  })

  it('writes a warning at once, with the info lines before it: a SIGKILL right after loses neither', async () => {
    // The child stops itself before any timer could flush: only the write at the warning can have put them out.
    const run = child(`log.info('before'); log.warn('the warning'); process.kill(process.pid, 'SIGKILL')`)
    expect(await run.exited).toBe('SIGKILL')
    expect(messages(run.lines)).toEqual(['before', 'the warning'])
  })

  it('writes a lone info line within its flush interval while the process runs on', async () => {
    const run = child(`log.info('alone'); setInterval(() => {}, 1000)`)
    await until(() => run.lines.length > 0)
    run.kill()
    await run.exited
    expect(messages(run.lines)).toEqual(['alone'])
  })
})
