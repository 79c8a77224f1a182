// What a function throws, for assertions on an error's code and message (fails the test when nothing is thrown).
import { BridgeError } from '../../src/errors.js'

export function thrownBy(fn: () => unknown): unknown {
  try {
    fn()
  } catch (error) {
    return error
  }
  throw new Error('expected the call to throw, but it returned')
}

/** The BridgeError `fn` throws; fails when it throws anything else (a crash instead of a typed refusal). */
export function bridgeErrorOf(fn: () => unknown): BridgeError {
  const error = thrownBy(fn)
  if (!(error instanceof BridgeError)) throw new Error(`expected a BridgeError, got ${String(error)}`, { cause: error })
  return error
}
