import type { Store } from './store.js';

const SWEEP_EVERY_WRITES = 1000;

/**
 * The in-process default: one instance, nothing shared. Its keys end with the process, so
 * sessions kept in it (`largeSessions: 'store'`) do too.
 *
 * @example
 * ```ts
 * AuthKitModule.forRoot({ store: new MemoryStore() }); // the same as leaving `store` out
 * ```
 */
export class MemoryStore implements Store {
  readonly shared = false;
  readonly prefix = 'nestjs-authkit:';
  private readonly values = new Map<string, { value: string; until: number }>();
  private readonly channels = new Map<string, Set<(message: string) => void>>();
  private writes = 0;

  async setIfAbsent(key: string, value: string, ttlMs: number): Promise<boolean> {
    if ((await this.get(key)) !== undefined) return false;
    await this.set(key, value, ttlMs);
    return true;
  }

  /** The value of `key`, or undefined when absent or expired. */
  async get(key: string): Promise<string | undefined> {
    const entry = this.values.get(key);
    if (!entry) return undefined;
    if (entry.until <= Date.now()) {
      this.values.delete(key);
      return undefined;
    }
    return entry.value;
  }

  /** Sets `key`, expiring after `ttlMs`. */
  async set(key: string, value: string, ttlMs: number): Promise<void> {
    const now = Date.now();
    // Keys nobody reads again (a replaced session entry) would otherwise stay forever.
    if (++this.writes % SWEEP_EVERY_WRITES === 0) this.sweep(now);
    this.values.set(key, { value, until: now + ttlMs });
  }

  private sweep(now: number): void {
    for (const [key, entry] of this.values) if (entry.until <= now) this.values.delete(key);
  }

  /** Removes `key`. */
  async delete(key: string): Promise<void> {
    this.values.delete(key);
  }

  /** In this process: always reachable. */
  async ping(): Promise<void> {}

  /** Calls this process's subscribers of `channel`, synchronously. */
  async publish(channel: string, message: string): Promise<void> {
    for (const listener of this.channels.get(channel) ?? []) listener(message);
  }

  async subscribe(channel: string, listener: (message: string) => void): Promise<() => void> {
    let listeners = this.channels.get(channel);
    if (!listeners) this.channels.set(channel, (listeners = new Set()));
    listeners.add(listener);
    return () => listeners.delete(listener);
  }
}
