import { createHmac, randomBytes } from 'node:crypto';
import type { AuthKitSession } from './session.types.js';

/** A verified session with its deadlines, worked out once when it was verified. */
export interface CachedSession {
  session: AuthKitSession;
  /** Unix seconds from which a cookie session is refreshed before use (Infinity: never). */
  refreshAt: number;
  /** Unix seconds from which the entry is gone: `exp` for a cookie, plus the leeway for Bearer. */
  expiresAt: number;
}

/** Default bound: ~2 KB per entry (the session object, its claims, the token), so ~40 MB full. */
export const DEFAULT_SESSION_CACHE_SIZE = 20_000;

/**
 * Verified sessions by an HMAC of their credential (cookie or token) under a per-process key:
 * a repeat request skips unseal + signature check. An entry never outlives its `expiresAt`.
 *
 * Two generations instead of a FIFO: a FIFO evicts sessions in use as readily as idle ones
 * (hit rate = size / working set), and a true LRU (delete + re-insert on every hit) costs
 * more per hot hit than the lookup saves. New entries go to the young map; when it is full it
 * becomes the old one and the previous old one is dropped; a hit in the old map moves the
 * entry back to the young one. A hot hit is one Map lookup; what is evicted is what went a
 * whole generation unused. At most `maxEntries` entries are held.
 */
export class VerifiedSessionCache {
  private readonly hmacKey = randomBytes(32);
  private young = new Map<string, CachedSession>();
  private old = new Map<string, CachedSession>();
  private readonly generationSize: number;

  constructor(private readonly maxEntries = DEFAULT_SESSION_CACHE_SIZE) {
    this.generationSize = Math.max(1, Math.floor(maxEntries / 2));
  }

  /** Entries held now (both generations). */
  get size(): number {
    return this.young.size + this.old.size;
  }

  keyOf(credential: string): string {
    return createHmac('sha256', this.hmacKey).update(credential).digest('base64url');
  }

  get(key: string, nowSeconds: number): CachedSession | undefined {
    let entry = this.young.get(key);
    if (entry === undefined) {
      entry = this.old.get(key);
      if (entry === undefined) return undefined;
      this.old.delete(key);
      if (entry.expiresAt > nowSeconds) this.admit(key, entry);
    }
    if (entry.expiresAt <= nowSeconds) {
      this.young.delete(key);
      return undefined;
    }
    return entry;
  }

  set(key: string, session: AuthKitSession, refreshAt: number, expiresAt: number): void {
    if (this.maxEntries === 0) return;
    this.old.delete(key);
    this.admit(key, { session, refreshAt, expiresAt });
  }

  clear(): void {
    this.young.clear();
    this.old.clear();
  }

  private admit(key: string, entry: CachedSession): void {
    if (this.young.size >= this.generationSize && !this.young.has(key)) {
      this.old = this.young;
      this.young = new Map();
    }
    this.young.set(key, entry);
  }
}
