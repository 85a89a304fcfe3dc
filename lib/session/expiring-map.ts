/**
 * A map whose entries all live `ttlMs`: insertion order is expiry order, so pruning stops at
 * the first live entry (no timers, no scan of the whole map). At most `maxEntries` are kept
 * (the oldest go first), so a refresh storm cannot grow it without bound.
 */
export class ExpiringMap<V> {
  private readonly entries = new Map<string, { value: V; until: number }>();

  constructor(
    readonly ttlMs: number,
    private readonly maxEntries = 10_000,
  ) {}

  get(key: string, now = Date.now()): V | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.until > now) return entry.value;
    this.entries.delete(key);
    return undefined;
  }

  set(key: string, value: V, now = Date.now()): void {
    for (const [k, entry] of this.entries) {
      if (entry.until > now) break;
      this.entries.delete(k);
    }
    // Re-inserted at the end, keeping insertion order = expiry order.
    this.entries.delete(key);
    if (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
    this.entries.set(key, { value, until: now + this.ttlMs });
  }

  delete(key: string): void {
    this.entries.delete(key);
  }
}
