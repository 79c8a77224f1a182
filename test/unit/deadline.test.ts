// Bounded waits: the ack timeout, the readiness probe and the drain at shutdown all rest on these two.
import { describe, expect, it } from 'vitest'
import { waitAtMost, within } from '../../src/deadline.js'

const never = new Promise<never>(() => undefined)
const after = <T>(ms: number, value: T): Promise<T> => new Promise((resolve) => setTimeout(() => resolve(value), ms))

describe('within', () => {
  it('settles as the promise does when it is in time, and rejects with the given error when it is late', async () => {
    await expect(within(after(5, 'ok'), 1_000, () => new Error('late'))).resolves.toBe('ok')
    await expect(within(Promise.reject(new Error('own')), 1_000, () => new Error('late'))).rejects.toThrow('own')
    const started = Date.now()
    await expect(within(never, 30, () => new Error('late'))).rejects.toThrow('late')
    expect(Date.now() - started).toBeGreaterThanOrEqual(25)
  })
})

describe('waitAtMost', () => {
  it('says whether the promise settled in time, a rejection counting as settled, and never throws', async () => {
    expect(await waitAtMost(after(5, 'x'), 1_000)).toBe(true)
    expect(await waitAtMost(Promise.reject(new Error('failed')), 1_000)).toBe(true)
    expect(await waitAtMost(never, 20)).toBe(false)
  })
})
