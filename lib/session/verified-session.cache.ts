import { createHmac, randomBytes } from 'node:crypto';
import type { AuthKitSession } from './session.types.js';

/**
 * Verified sessions by an HMAC of their credential (cookie or token) under a per-process key:
 * a repeat request skips unseal + signature check. An entry never outlives its token's `exp`.
 */
export class VerifiedSessionCache {
  private readonly hmacKey = randomBytes(32);
  private readonly entries = new Map<string, AuthKitSession>();

  constructor(private readonly maxEntries = 5000) {}

  keyOf(credential: string): string {
    return createHmac('sha256', this.hmacKey).update(credential).digest('base64url');
  }

  get(key: string, nowSeconds: number): AuthKitSession | undefined {
    const session = this.entries.get(key);
    if (session && session.claims.exp <= nowSeconds) {
      this.entries.delete(key);
      return undefined;
    }
    return session;
  }

  set(key: string, session: AuthKitSession): void {
    if (this.entries.size >= this.maxEntries) {
      // Oldest first: Map keeps insertion order.
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
    this.entries.set(key, session);
  }

  clear(): void {
    this.entries.clear();
  }
}
