// systemd's socket-passing protocol: a socket is ours only when LISTEN_PID names this process.
import { describe, expect, it } from 'vitest'
import { passedSocket } from '../../../src/cli/listen-socket.js'

describe('passedSocket', () => {
  it('takes fd 3 when LISTEN_PID is this process and LISTEN_FDS is 1', () => {
    expect(passedSocket({ LISTEN_PID: '4242', LISTEN_FDS: '1' }, 4242)).toBe(3)
  })

  it('ignores variables meant for another process (inherited from a parent), or none', () => {
    expect(passedSocket({ LISTEN_PID: '4241', LISTEN_FDS: '1' }, 4242)).toBeUndefined()
    expect(passedSocket({}, 4242)).toBeUndefined()
    expect(passedSocket({ LISTEN_PID: '4242', LISTEN_FDS: '0' }, 4242)).toBeUndefined()
    expect(passedSocket({ LISTEN_PID: '4242', LISTEN_FDS: 'x' }, 4242)).toBeUndefined()
  })

  it('refuses several sockets, naming the fix', () => {
    expect(() => passedSocket({ LISTEN_PID: '4242', LISTEN_FDS: '2' }, 4242)).toThrow(/a single ListenStream/)
  })
})
