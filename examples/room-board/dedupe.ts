// A bounded window of the event ids a consumer has applied: the bridge delivers at least once, so a record may come twice.

/** Remembers the last `capacity` ids; `firstTime` says whether an id is new, and remembers it. */
export class DedupeWindow {
  private readonly ids = new Set<string>()
  private readonly order: string[] = []
  private oldest = 0

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new Error(`the dedupe window holds at least one id, not ${capacity}`)
  }

  firstTime(id: string): boolean {
    if (this.ids.has(id)) return false
    this.ids.add(id)
    if (this.order.length < this.capacity) {
      this.order.push(id)
    } else {
      // A ring: the slot of the oldest id takes the newest.
      this.ids.delete(this.order[this.oldest]!)
      this.order[this.oldest] = id
      this.oldest = (this.oldest + 1) % this.capacity
    }
    return true
  }

  get size(): number {
    return this.ids.size
  }
}
