// One spool.maxBytes for the main spool and every held lane: each counts what all of them hold.

export interface SpoolBudget {
  readonly maxBytes: number
  /** Bytes on disk and being written, over every spool that shares the budget. */
  usedBytes(): number
  /** A spool joins (its usedBytes counts) or leaves (a lane removed). */
  add(spool: { readonly usedBytes: number }): void
  remove(spool: { readonly usedBytes: number }): void
}

export function createSpoolBudget(maxBytes: number): SpoolBudget {
  const members = new Set<{ readonly usedBytes: number }>()
  return {
    maxBytes,
    usedBytes() {
      let used = 0
      for (const spool of members) used += spool.usedBytes
      return used
    },
    add: (spool) => void members.add(spool),
    remove: (spool) => void members.delete(spool),
  }
}
