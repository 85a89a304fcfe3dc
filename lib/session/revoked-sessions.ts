import {
  Inject,
  Injectable,
  Logger,
  type OnModuleDestroy,
  type OnModuleInit,
} from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { AUTHKIT_CONFIG } from '../authkit.constants.js';
import type { AuthKitConfig } from '../authkit.options.js';
import { AuthKitMetrics } from '../metrics/authkit-metrics.js';
import { storeKeys } from '../store/store.js';

/**
 * A revoked `sid` is refused at least this long: twice WorkOS's 5-minute access tokens, so
 * every token issued before the revocation has expired by the time it is forgotten (a
 * refresh of the sid is refused meanwhile, and WorkOS refuses it after).
 *
 * @example
 * ```ts
 * revoked.ttlMs >= MIN_REVOCATION_MS; // true: 600000 ms, or the longest token seen + tolerance
 * ```
 */
export const MIN_REVOCATION_MS = 10 * 60_000;
/**
 * Token lifetimes beyond this are not followed: a token minted to live for a year must not keep
 * an entry (and a store key) that long. WorkOS access tokens live minutes.
 */
const MAX_TOKEN_LIFETIME_MS = 24 * 60 * 60_000;
/** Revoked sessions held in memory at most; beyond, the oldest are forgotten here (logged). */
const MAX_ENTRIES = 100_000;
/** A revocation the store did not take is tried again after 1 s, doubling up to 10 s. */
const RETRY_FIRST_MS = 1000;
const RETRY_MAX_MS = 10_000;
const MAX_SESSION_ID_LENGTH = 256;

/**
 * Where a revocation came from: the webhook route (`session.revoked`),
 * `SessionService.revoke()`, a sign-out through this package, a peer instance's broadcast, or
 * the store (an instance that missed the broadcast reads it at the session's first sight).
 *
 * @example
 * ```ts
 * revoked.onRevoke((sid, source) => audit.log({ sid, revokedBy: source })); // 'webhook', …
 * ```
 */
export type RevocationSource = 'webhook' | 'revoke' | 'sign-out' | 'peer' | 'store';

/**
 * Whether the other instances know: `shared` (in the store and announced), `pending` (the store
 * is unreachable: retried until it takes it, logged and counted), `local` (no shared store:
 * this instance is the only one).
 *
 * @example
 * ```ts
 * if ((await sessions.revoke(sid)).reach === 'pending') warnOps('Redis down: peers not told yet');
 * ```
 */
export type RevocationReach = 'shared' | 'pending' | 'local';

interface Broadcast {
  sid: string;
  source: RevocationSource;
  /** How long the sender refuses it; the receiver keeps it at least as long as its own. */
  ttlMs: number;
  from: string;
}

/**
 * Session ids (`sid`) refused on every instance, at once: a revoked session is 401
 * `SESSION_REVOKED` whatever its credential (cookie, Bearer, WebSocket) and is never refreshed.
 * Kept in memory (one Map lookup per request, none while the list is empty) and, with a shared
 * store, under a key per `sid` that lives as long as this instance's entry (an instance that
 * boots later, or missed the broadcast, reads it when it first sees a credential of that
 * session) and announced on a channel so peers refuse it at their next request.
 *
 * How long: as long as an access token can live — the longest `exp − iat` seen here plus the
 * clock tolerance, at least 10 minutes (`MIN_REVOCATION_MS`). After that every token issued
 * before the revocation has expired, and the refresh token is WorkOS's to refuse.
 *
 * @example
 * ```ts
 * // in a provider
 * constructor(private readonly revoked: RevokedSessions) {}
 * await this.revoked.revoke('session_01H…', 'revoke'); // 'shared' | 'pending' | 'local'
 * this.revoked.has('session_01H…'); // true, on every instance
 * ```
 */
@Injectable()
export class RevokedSessions implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger('AuthKit');
  private readonly id = randomBytes(8).toString('hex');
  /** `sid` → Unix ms until which it is refused. Insertion order is (close to) expiry order. */
  private readonly entries = new Map<string, number>();
  /** Revocations the store has not taken yet, retried: `sid` → its entry's end and source. */
  private readonly pending = new Map<string, { until: number; source: RevocationSource }>();
  private readonly listeners = new Set<(sessionId: string, source: RevocationSource) => void>();
  private readonly resyncListeners = new Set<() => void>();
  private readonly sharedWaiters: Array<() => void> = [];
  private longestTokenMs = 0;
  private retryTimer?: ReturnType<typeof setTimeout>;
  private retryDelayMs = RETRY_FIRST_MS;
  private unsubscribe?: () => void;
  private stopResync?: () => void;
  private readDown = false;
  private warnedOverflow = false;

  constructor(
    @Inject(AUTHKIT_CONFIG) private readonly config: AuthKitConfig,
    private readonly metrics: AuthKitMetrics,
  ) {}

  async onModuleInit(): Promise<void> {
    const { store } = this.config;
    if (!store.shared) return;
    this.unsubscribe = await store.subscribe(storeKeys.revocationChannel(store), (message) =>
      this.fromPeer(message),
    );
    this.stopResync = store.onResubscribe?.(() =>
      this.resync('store reconnected: revocations announced meanwhile may have been missed'),
    );
  }

  onModuleDestroy(): void {
    this.unsubscribe?.();
    this.stopResync?.();
    clearTimeout(this.retryTimer);
    if (this.pending.size > 0) {
      this.logger.error(
        `${this.pending.size} session revocation(s) never reached the store: other instances ` +
          'refuse them only if WorkOS tells them too (session.revoked) or when the tokens expire',
      );
    }
    this.flushWaiters();
  }

  /** How long a revocation made now is kept (ms). */
  get ttlMs(): number {
    const longest = this.longestTokenMs + this.config.clockToleranceSeconds * 1000;
    return longest > MIN_REVOCATION_MS ? longest : MIN_REVOCATION_MS;
  }

  /** Revocations this instance made that the store has not taken yet (it is unreachable). */
  get pendingCount(): number {
    return this.pending.size;
  }

  /**
   * Whether `sessionId` is refused now. The per-request check: nothing while the list is empty,
   * else one Map lookup (the clock is read only for a listed `sid`).
   */
  has(sessionId: string): boolean {
    if (this.entries.size === 0) return false;
    const until = this.entries.get(sessionId);
    return until !== undefined && until > Date.now();
  }

  /**
   * Notes a verified token's lifetime (`exp − iat`): revocations are kept as long as the
   * longest one seen. Called once per credential, when it is first verified.
   */
  observe(claims: { iat: number; exp: number }): void {
    const lifetime = (claims.exp - claims.iat) * 1000;
    if (lifetime > this.longestTokenMs) {
      this.longestTokenMs = lifetime < MAX_TOKEN_LIFETIME_MS ? lifetime : MAX_TOKEN_LIFETIME_MS;
    }
  }

  /**
   * Refuses `sessionId` here at once, then writes it to the store and announces it (awaited).
   * When the store cannot take it, it is retried until it does (logged, counted as
   * `storeFallback('revocation')`): a revocation is never silently lost.
   */
  async revoke(sessionId: string, source: RevocationSource): Promise<RevocationReach> {
    if (!isSessionId(sessionId)) {
      throw new TypeError(
        `a session id is a non-empty string of at most ${MAX_SESSION_ID_LENGTH} characters ` +
          '(the access token `sid`, e.g. session_01H…)',
      );
    }
    const until = Date.now() + this.ttlMs;
    this.apply(sessionId, until, source);
    if (!this.config.store.shared) return 'local';
    try {
      await this.share(sessionId, source, until);
      return 'shared';
    } catch {
      this.queue(sessionId, until, source);
      return 'pending';
    }
  }

  /**
   * Whether `sessionId` is revoked, asking the store when this instance has not heard of it:
   * for a credential seen for the first time (verified, not cached), so an instance that
   * booted after the revocation or missed its broadcast refuses it too. While the store is
   * unreachable the session is let in (logged once, counted): an outage signs nobody out.
   */
  async isRevoked(sessionId: string): Promise<boolean> {
    if (this.has(sessionId)) return true;
    const { store } = this.config;
    if (!store.shared) return false;
    let stored: string | undefined;
    try {
      stored = await store.get(storeKeys.revokedSession(store, sessionId));
      if (this.readDown) {
        // Sessions let in while it could not be read were cached unchecked: check them again.
        this.readDown = false;
        this.resync('the store can be read again');
      }
    } catch {
      this.metrics.storeFallback('revocation');
      if (!this.readDown) {
        this.readDown = true;
        this.logger.warn(
          'revoked sessions cannot be read: store unavailable; sessions this instance has not ' +
            'heard were revoked are let in until it is back',
        );
      }
      return false;
    }
    if (stored === undefined) return false;
    this.apply(sessionId, Date.now() + this.ttlMs, 'store');
    return true;
  }

  /** Called with each revocation recorded here (any source, peers' included); returns a stop. */
  onRevoke(listener: (sessionId: string, source: RevocationSource) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Called when announcements may have been missed (the store's subscription was lost and is
   * back): what was cached as "not revoked" must be checked against the store again.
   */
  onResync(listener: () => void): () => void {
    this.resyncListeners.add(listener);
    return () => this.resyncListeners.delete(listener);
  }

  /** Resolves once every revocation made here has reached the store (now, if none is pending). */
  whenShared(): Promise<void> {
    if (this.pending.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.sharedWaiters.push(resolve));
  }

  private resync(why: string): void {
    this.logger.warn(
      `${why}: every session is checked against the store again at its next request`,
    );
    for (const listener of this.resyncListeners) listener();
  }

  private fromPeer(message: string): void {
    let peer: Partial<Broadcast>;
    try {
      peer = JSON.parse(message) as Partial<Broadcast>;
    } catch {
      return; // Not ours.
    }
    if (peer.from === this.id || typeof peer.sid !== 'string' || !isSessionId(peer.sid)) return;
    const ttl =
      typeof peer.ttlMs === 'number' && Number.isFinite(peer.ttlMs) && peer.ttlMs > 0
        ? Math.min(peer.ttlMs, MAX_TOKEN_LIFETIME_MS)
        : 0;
    this.apply(peer.sid, Date.now() + Math.max(ttl, this.ttlMs), 'peer');
  }

  /** Records the entry; tells the listeners when it is new (not a repeat of a known one). */
  private apply(sessionId: string, until: number, source: RevocationSource): void {
    const now = Date.now();
    const known = this.entries.get(sessionId);
    const isNew = known === undefined || known <= now;
    if (!isNew && known >= until) return;
    this.prune(now);
    // Re-inserted at the end: insertion order stays expiry order.
    this.entries.delete(sessionId);
    this.entries.set(sessionId, until);
    if (!isNew) return;
    this.logger.log(
      `session ${sessionId} revoked (${source}): refused until ${new Date(until).toISOString()}`,
    );
    for (const listener of this.listeners) listener(sessionId, source);
  }

  private prune(now: number): void {
    for (const [sessionId, until] of this.entries) {
      if (until > now && this.entries.size < MAX_ENTRIES) break;
      this.entries.delete(sessionId);
      if (until > now && !this.warnedOverflow) {
        this.warnedOverflow = true;
        this.logger.error(
          `more than ${MAX_ENTRIES} sessions revoked within ${Math.round(this.ttlMs / 60_000)} ` +
            'minutes: the oldest are forgotten early on this instance (the store still refuses ' +
            'them to credentials it has not seen yet)',
        );
      }
    }
  }

  /** Store first, then the announcement: a peer that missed it finds the key at first sight. */
  private async share(sessionId: string, source: RevocationSource, until: number): Promise<void> {
    const { store } = this.config;
    const ttlMs = Math.max(1, until - Date.now());
    await store.set(storeKeys.revokedSession(store, sessionId), source, ttlMs);
    const message: Broadcast = { sid: sessionId, source, ttlMs, from: this.id };
    await store.publish(storeKeys.revocationChannel(store), JSON.stringify(message));
  }

  private queue(sessionId: string, until: number, source: RevocationSource): void {
    this.metrics.storeFallback('revocation');
    if (this.pending.size === 0) {
      this.logger.warn(
        'session revocation not shared: store unavailable; refused on this instance, and ' +
          'retried until the store takes it',
      );
    }
    this.pending.set(sessionId, { until, source });
    this.scheduleRetry();
  }

  private scheduleRetry(): void {
    if (this.retryTimer !== undefined) return;
    this.retryTimer = setTimeout(() => void this.retry(), this.retryDelayMs);
    this.retryTimer.unref?.();
  }

  private async retry(): Promise<void> {
    this.retryTimer = undefined;
    let shared = 0;
    for (const [sessionId, { until, source }] of this.pending) {
      // Every token it could refuse has expired: nothing is left to share.
      if (until <= Date.now()) {
        this.pending.delete(sessionId);
        continue;
      }
      try {
        await this.share(sessionId, source, until);
      } catch {
        this.metrics.storeFallback('revocation');
        this.retryDelayMs = Math.min(this.retryDelayMs * 2, RETRY_MAX_MS);
        this.scheduleRetry();
        return;
      }
      this.pending.delete(sessionId);
      shared++;
    }
    this.retryDelayMs = RETRY_FIRST_MS;
    if (shared > 0) this.logger.log(`${shared} session revocation(s) shared: the store is back`);
    if (this.pending.size === 0) this.flushWaiters();
  }

  private flushWaiters(): void {
    for (const resolve of this.sharedWaiters.splice(0)) resolve();
  }
}

function isSessionId(value: string): boolean {
  return value.length > 0 && value.length <= MAX_SESSION_ID_LENGTH;
}
