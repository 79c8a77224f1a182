// The calls between a cluster's primary and its workers, over a pair of in-memory ports that copy as IPC does.
import { EventEmitter } from 'node:events'
import { describe, expect, it } from 'vitest'
import { openChannel, type Port } from '../../../src/cluster/channel.js'
import { BridgeError, ErrorCodes } from '../../../src/errors.js'

/** Two ends; a message arrives on the other end later, as a structured clone (node's advanced serialization). */
function pair(): [Port, Port] {
  const a = new EventEmitter()
  const b = new EventEmitter()
  const to = (target: EventEmitter): Port['send'] => (message) => {
    setImmediate(() => target.emit('message', structuredClone(message)))
    return true
  }
  return [Object.assign(a, { send: to(b) }), Object.assign(b, { send: to(a) })]
}

describe('cluster channel', () => {
  it('answers a call with the handler\'s value, bytes included', async () => {
    const [primary, worker] = pair()
    openChannel(primary, { deliver: (records: { body: Uint8Array }[]) => records.map((r) => r.body.length) })
    const channel = openChannel(worker, {})
    expect(await channel.call('deliver', [{ body: Buffer.from('abc') }, { body: Buffer.alloc(5) }])).toEqual([3, 5])
  })

  it('keeps a BridgeError\'s code and retriable flag, and a system error\'s code, across', async () => {
    const [primary, worker] = pair()
    openChannel(primary, {
      full: () => {
        throw new BridgeError(ErrorCodes.SPOOL_FULL, 'the spool is full', { retriable: true })
      },
      listen: () => Promise.reject(Object.assign(new Error('listen EADDRINUSE'), { code: 'EADDRINUSE' })),
    })
    const channel = openChannel(worker, {})
    const full = await channel.call('full').catch((error: unknown) => error)
    expect(full).toBeInstanceOf(BridgeError)
    expect(full).toMatchObject({ code: 'SPOOL_FULL', retriable: true, message: 'the spool is full' })
    const listen = await channel.call('listen').catch((error: unknown) => error)
    expect(listen).not.toBeInstanceOf(BridgeError)
    expect(listen).toMatchObject({ code: 'EADDRINUSE', message: 'listen EADDRINUSE' })
  })

  it('answers calls in any order by id, runs notes without answering, and refuses an unknown method', async () => {
    const [primary, worker] = pair()
    const heard: string[] = []
    let release: () => void = () => {}
    openChannel(primary, {
      slow: () => new Promise<string>((resolve) => (release = () => resolve('slow'))),
      fast: () => 'fast',
      heard: (id: string) => void heard.push(id),
    })
    const channel = openChannel(worker, {})
    const slow = channel.call('slow')
    expect(await channel.call('fast')).toBe('fast')
    release()
    expect(await slow).toBe('slow')
    channel.note('heard', 'front-desk')
    await expect(channel.call('nothing')).rejects.toThrow('no handler for "nothing"')
    expect(heard).toEqual(['front-desk'])
  })

  it('rejects what waits, and what is called after, once closed: the other end is gone', async () => {
    const [primary, worker] = pair()
    openChannel(primary, { never: () => new Promise(() => {}) })
    const channel = openChannel(worker, {})
    const waiting = channel.call('never')
    channel.close('the worker stopped')
    await expect(waiting).rejects.toMatchObject({ code: 'SHUTTING_DOWN', message: 'the worker stopped' })
    await expect(channel.call('never')).rejects.toMatchObject({ code: 'SHUTTING_DOWN' })
  })
})
