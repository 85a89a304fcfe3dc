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

/**
 * Verified sessions by an HMAC of their credential (cookie or token) under a per-process key:
 * a repeat request skips unseal + signature check. An entry never outlives its `expiresAt`.
 */
export class VerifiedSessionCache {
  private readonly hmacKey = randomBytes(32);
  private readonly entries = new Map<string, CachedSession>();

  constructor(private readonly maxEntries = 5000) {}

  keyOf(credential: string): string {
    return createHmac('sha256', this.hmacKey).update(credential).digest('base64url');
  }

  get(key: string, nowSeconds: number): CachedSession | undefined {
    const entry = this.entries.get(key);
    if (entry && entry.expiresAt <= nowSeconds) {
      this.entries.delete(key);
      return undefined;
    }
    return entry;
  }

  set(key: string, session: AuthKitSession, refreshAt: number, expiresAt: number): void {
    if (this.entries.size >= this.maxEntries) {
      // Oldest first: Map keeps insertion order.
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
    this.entries.set(key, { session, refreshAt, expiresAt });
  }

  clear(): void {
    this.entries.clear();
  }
}
