// Seeded mutations of the documents' own payloads: every outcome is records, a filter, or a BAD_INPUT refusal; nothing else.
import { describe, expect, it } from 'vitest'
import type { Dv2000SourceConfig } from '../../../src/sources/dv2000/options.js'
import type { ServioSourceConfig } from '../../../src/sources/servio/options.js'
import { BridgeError, ErrorCodes } from '../../../src/errors.js'
import { dv2000Source } from '../../../src/sources/dv2000/index.js'
import type { SourceComponent } from '../../../src/sources/source.js'
import { servioSource } from '../../../src/sources/servio/index.js'
import { rawPostExample, roomUpdateText } from '../../fixtures/dv2000/index.js'
import { SERVIO_EXAMPLES, servioFixture } from '../../fixtures/servio/index.js'

/** mulberry32: the same sequence on every run, so a failure can be replayed. */
function random(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const TOKENS = ['"', '{', '}', '[', ']', ':', ',', '0', '-1', '1e999', 'null', 'true', '"1"', ' ', '\\', '\\u0000', '\u00e9', '\ud83d', '99999999999999999999']

function mutate(body: Buffer, next: () => number): Buffer {
  const text = body.toString('latin1')
  const at = Math.floor(next() * (text.length + 1))
  const choice = next()
  let out: string
  if (choice < 0.3) out = text.slice(0, at) + text.slice(at + 1 + Math.floor(next() * 4)) // delete
  else if (choice < 0.6) out = text.slice(0, at) + TOKENS[Math.floor(next() * TOKENS.length)] + text.slice(at) // insert
  else if (choice < 0.8) out = text.slice(0, at) // truncate
  else out = text.slice(0, at) + String.fromCharCode(Math.floor(next() * 256)) + text.slice(at + 1) // flip a byte
  return Buffer.from(out, 'latin1')
}

function fuzz<S extends Dv2000SourceConfig | ServioSourceConfig>(component: SourceComponent<S>, source: S, seeds: Buffer[], rounds: number) {
  const next = random(0x5eed)
  const outcomes = { records: 0, filtered: 0, refused: 0 }
  for (let i = 0; i < rounds; i++) {
    let body = seeds[i % seeds.length]!
    const steps = 1 + Math.floor(next() * 3)
    for (let s = 0; s < steps; s++) body = mutate(body, next)
    try {
      const result = component.ingest(body, { source, receivedAt: new Date(0), newId: () => '00000000-0000-4000-8000-000000000000' })
      outcomes[result.kind]++
    } catch (error) {
      if (!(error instanceof BridgeError) || error.code !== ErrorCodes.BAD_INPUT) {
        throw new Error(`round ${i}: ${String(error)} for body ${JSON.stringify(body.toString('latin1'))}`)
      }
      expect(error.message.length).toBeLessThan(400)
      outcomes.refused++
    }
  }
  return outcomes
}

describe('mutated payloads', () => {
  it('DV2000: 5,000 mutations of the documented examples are records or BAD_INPUT, never another error', () => {
    const outcomes = fuzz(dv2000Source, { id: 'desk', type: 'dv2000', secrets: ['12345678'], categories: [3] }, [Buffer.from(roomUpdateText()), rawPostExample()], 5_000)
    expect(outcomes.records).toBeGreaterThan(50)
    expect(outcomes.refused).toBeGreaterThan(1_000)
  })

  it('Servio: 5,000 mutations of the documented examples are records, filtered or BAD_INPUT, never another error', () => {
    const outcomes = fuzz(servioSource, { id: 'hotel', type: 'servio', secrets: ['12345678'], hotelId: '12' }, SERVIO_EXAMPLES.map((e) => servioFixture(e.file)), 5_000)
    // Servio bodies are short: most single edits break them, a few keep them valid.
    expect(outcomes.records).toBeGreaterThan(10)
    expect(outcomes.refused).toBeGreaterThan(1_000)
  })
})
