// scripts/stack.sh as a fresh machine runs it: storage formatted with any cluster id Kafka can make.
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, expect, inject, it } from 'vitest'

const dirs: string[] = []
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
})

it('formats a broker whose cluster id begins with "-" (URL-safe base64 makes one 1 time in 64)', () => {
  const data = mkdtempSync(join(tmpdir(), 'stack-data-'))
  dirs.push(data)
  const id = '-EZeQ1YdTjm8z2lPGRdxBw'
  execFileSync('bash', [inject('stackScript'), 'format', 'kafka'], {
    env: { ...process.env, STACK_DATA: data, KAFKA_CLUSTER_ID: id },
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: 120_000,
  })
  expect(readFileSync(join(data, 'kafka', 'meta.properties'), 'utf8')).toMatch(new RegExp(`^cluster\\.id=${id}$`, 'm'))
})
