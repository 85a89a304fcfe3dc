import { Logger } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import type { AuthKitMetrics } from '../metrics/authkit-metrics.js';
import { storeKeys, type Store } from '../store/store.js';
import { ExpiringMap } from './expiring-map.js';

/** What instances share about one refresh token's exchange (JSON in the store). */
export type SharedRefreshResult =
  | { ok: true; sealed: string; startedAt: number }
  /** `spent`: WorkOS said invalid_grant while coordination was uncertain (someone may hold the new session). */
  | { ok: false; terminal: boolean; detail: string; spent?: boolean };

/** How a coordinated attempt ended for this instance. */
export type Coordinated =
  /** This instance holds the lock: exchange, then `settle()` with the outcome. */
  | { kind: 'owner'; uncertain: boolean }
  /** Another instance's result (or this store's memory of a spent token). */
  | { kind: 'shared'; result: SharedRefreshResult; uncertain: boolean }
  /** The store failed before anyone was seen holding the lock: exchange alone. */
  | { kind: 'alone' }
  /** Another instance holds the lock and its result cannot be read now. */
  | { kind: 'unreachable'; detail: string };

/** How often an instance waiting on another's exchange looks for its result. */
const POLL_MS = 20;
/**
 * How long store errors are waited out once another instance is known to hold the lock: a
 * Redis restart or failover blip. After it the request is answered 503, never by a second
 * exchange of the same token (that one would be answered invalid_grant).
 */
const STORE_GRACE_MS = 1000;

/**
 * One upstream exchange per refresh token across every instance sharing the store. The
 * instance whose `SET NX PX` lands exchanges and stores the outcome; the others poll for it.
 * A slow store is waited for (up to the lock's lifetime), not taken for a dead one; a `SET NX`
 * whose reply was lost may have landed, so the lock's value is read back. Every attempt that
 * saw the store fail is marked `uncertain`, so the caller never takes an `invalid_grant` from
 * it as the end of the session.
 */
export class RefreshCoordination {
  private readonly logger = new Logger('AuthKit');
  /** This instance's name on the refresh locks it holds. */
  private readonly owner = randomBytes(8).toString('hex');
  private failing = false;
  private troubleAt = 0;
  /** Tokens whose lock another instance held when the store went away: never exchanged alone. */
  private readonly heldElsewhere: ExpiringMap<true>;

  constructor(
    private readonly store: Store,
    /** The lock's lifetime: longer than one exchange may take. */
    readonly lockTtlMs: number,
    private readonly reuseWindowMs: number,
    private readonly failureMemoryMs: number,
    private readonly doubtWindowMs: number,
    private readonly metrics: Pick<AuthKitMetrics, 'storeFallback'>,
  ) {
    this.heldElsewhere = new ExpiringMap(lockTtlMs);
  }

  /** True while the store failed recently: another instance may have exchanged unseen. */
  get troubled(): boolean {
    return Date.now() - this.troubleAt < this.lockTtlMs;
  }

  async begin(tokenHash: string): Promise<Coordinated> {
    const { store } = this;
    const lockKey = storeKeys.refreshLock(store, tokenHash);
    const resultKey = storeKeys.refreshResult(store, tokenHash);
    const attempt = `${this.owner}:${randomBytes(6).toString('hex')}`;
    const deadline = Date.now() + 2 * this.lockTtlMs;
    let uncertain = this.troubled;
    let sawOther = this.heldElsewhere.get(tokenHash) !== undefined;
    let setMayHaveLanded = false;
    let troubleSince: number | undefined;
    for (;;) {
      let step: 'read' | 'lock' = 'read';
      try {
        const stored = parse(await store.get(resultKey));
        if (stored) {
          this.healthy();
          return { kind: 'shared', result: stored, uncertain };
        }
        step = 'lock';
        const taken =
          (await store.setIfAbsent(lockKey, attempt, this.lockTtlMs)) ||
          (setMayHaveLanded && (await store.get(lockKey)) === attempt);
        this.healthy();
        if (taken) return { kind: 'owner', uncertain };
        sawOther = true;
        troubleSince = undefined;
      } catch (error) {
        this.down(error);
        uncertain = true;
        if (step === 'lock') setMayHaveLanded = true;
        if (!sawOther) {
          this.metrics.storeFallback('refresh_lock');
          return { kind: 'alone' };
        }
        troubleSince ??= Date.now();
        if (Date.now() - troubleSince > STORE_GRACE_MS) {
          this.heldElsewhere.set(tokenHash, true);
          this.metrics.storeFallback('refresh_lock');
          return {
            kind: 'unreachable',
            detail: 'store unreachable while another instance refreshes',
          };
        }
      }
      if (Date.now() > deadline) {
        return { kind: 'unreachable', detail: 'refresh by another instance timed out' };
      }
      await delay(POLL_MS);
    }
  }

  /**
   * Publishes the owner's outcome. A session or a dead token is kept for the reuse window; a
   * transient failure only briefly, with the lock released so the next attempt can go; a
   * doubtful `invalid_grant` never overwrites a session another instance stored.
   */
  async settle(tokenHash: string, result: SharedRefreshResult): Promise<void> {
    const { store } = this;
    const resultKey = storeKeys.refreshResult(store, tokenHash);
    const value = JSON.stringify(result);
    try {
      if (result.ok || result.terminal) {
        await store.set(resultKey, value, this.reuseWindowMs);
      } else if (result.spent) {
        await store.setIfAbsent(resultKey, value, this.doubtWindowMs);
      } else {
        await store.set(resultKey, value, this.failureMemoryMs);
        await store.delete(storeKeys.refreshLock(store, tokenHash));
      }
    } catch (error) {
      this.metrics.storeFallback('refresh_result');
      this.down(error);
    }
  }

  private down(error: unknown): void {
    this.troubleAt = Date.now();
    if (this.failing) return;
    this.failing = true;
    this.logger.warn(
      `store unavailable (${error instanceof Error ? error.message.slice(0, 120) : 'error'}): ` +
        'refreshes wait for it, or go on in this instance alone when nobody else holds the token',
    );
  }

  private healthy(): void {
    if (!this.failing) return;
    this.failing = false;
    this.logger.log('store back: refreshes are coordinated across instances again');
  }
}

/** A stored result, or undefined when there is none or it is unreadable (then: a miss). */
function parse(stored: string | undefined): SharedRefreshResult | undefined {
  if (stored === undefined) return undefined;
  try {
    const value = JSON.parse(stored) as Partial<SharedRefreshResult> | null;
    if (typeof value !== 'object' || value === null) return undefined;
    if (value.ok === true) {
      return typeof value.sealed === 'string' && typeof value.startedAt === 'number'
        ? (value as SharedRefreshResult)
        : undefined;
    }
    if (value.ok === false && typeof value.detail === 'string') {
      return value as SharedRefreshResult;
    }
  } catch {
    // fall through: unreadable
  }
  return undefined;
}
