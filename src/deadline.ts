// Bounded waits: a promise that must settle in time, or one that is only waited for so long.

/** Settles as `promise` does, or rejects with `late()` after `ms`; the timer never outlives the wait. */
export function within<T>(promise: Promise<T>, ms: number, late: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(late()), ms)
  })
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer))
}

/** Waits for `promise` (whatever its outcome) at most `ms`; true when it settled in time. */
export async function waitAtMost(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined
  const settled = promise.then(
    () => true,
    () => true,
  )
  const gaveUp = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ms)))
  try {
    return await Promise.race([settled, gaveUp])
  } finally {
    clearTimeout(timer)
  }
}
