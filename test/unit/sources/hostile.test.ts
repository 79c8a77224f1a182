// Bodies built to hurt: deep nesting must end as a clear refusal (dead letter), never a crash or a stack overflow.
import { describe, expect, it } from 'vitest'
import type { Dv2000SourceConfig } from '../../../src/sources/dv2000/options.js'
import type { ServioSourceConfig } from '../../../src/sources/servio/options.js'
import { BridgeError } from '../../../src/errors.js'
import { dv2000Source } from '../../../src/sources/dv2000/index.js'
import { servioSource } from '../../../src/sources/servio/index.js'

const deep = (n: number): string => '['.repeat(n) + ']'.repeat(n)
const context = <S>(source: S) => ({ source, receivedAt: new Date(0), newId: () => '00000000-0000-4000-8000-000000000000' })
const dv2000 = context<Dv2000SourceConfig>({ id: 'desk', type: 'dv2000', secrets: ['12345678'] })
const servio = context<ServioSourceConfig>({ id: 'hotel', type: 'servio', secrets: ['12345678'] })
const packet = (category: string, message: string): Buffer =>
  Buffer.from(`{"category":${category},"date":"d","event":12,"message":${message},"service_id":1,"service_name":"s","time":"t","timestamp":"x"}`)

function refusal(run: () => unknown): BridgeError {
  try {
    run()
  } catch (error) {
    expect(error).toBeInstanceOf(BridgeError)
    return error as BridgeError
  }
  throw new Error('expected a refusal')
}

describe('hostile nesting', () => {
  it('keeps a DV2000 message nested 300,000 deep as sent, and refuses such a category with a short reason', () => {
    const result = dv2000Source.ingest(packet('3', deep(300_000)), dv2000)
    expect(result.kind).toBe('records')
    if (result.kind !== 'records') return
    expect((result.records[0]!.value['message_json'] as string).length).toBe(600_000)
    const error = refusal(() => dv2000Source.ingest(packet(deep(300_000), '{}'), dv2000))
    expect(error.code).toBe('BAD_INPUT')
    expect(error.message).toBe('field "category" must be an integer, got an array of 1, nested too deep to show')
  })

  it('refuses a Servio id list nested 300,000 deep as bad input', () => {
    const error = refusal(() => servioSource.ingest(Buffer.from(`{"Add":{"Clients":${deep(300_000)}}}`), servio))
    expect(error.code).toBe('BAD_INPUT')
    expect(error.message).toMatch(/^Add\.Clients\[0\] must be an integer id, got an array of 1, nested too deep to show/)
  })
})
