import { hash } from 'node:crypto';
import type { AuthKitSession } from './session.types.js';

/** A verified session with its deadlines, worked out once when it was verified. */
export interface CachedSession {
  session: AuthKitSession;
  /** Unix seconds from which a cookie session is refreshed before use (Infinity: never). */
  refreshAt: number;
  /** Unix seconds from which the entry is gone: `exp` for a cookie, plus the leeway for Bearer. */
  expiresAt: number;
}

interface Slot extends CachedSession {
  key: string;
  /** Read since the clock hand last passed: spared once. */
  used: boolean;
}

/**
 * Default bound: ~2 KB of heap per entry (the session, its claims, the token; `bench/` measures it),
 * so ~100 MB when full. Entries never outlive their token (5 minutes on WorkOS), so it fills only
 * with 50,000 sessions active within one token's life.
 */
export const DEFAULT_SESSION_CACHE_SIZE = 50_000;

/**
 * Verified sessions by a SHA-256 of their credential (cookie or token): a repeat request skips
 * unseal + signature check. An entry never outlives its `expiresAt`.
 *
 * Eviction is CLOCK (second chance): a hit sets a flag; when full, a hand sweeps a ring of the
 * entries, clearing flags, and replaces the first entry not read since its last pass. Sessions
 * in use stay while one-off ones go, every one of `maxEntries` slots holds a session (two
 * generations held between half and all), and a hot hit is one Map lookup plus a store — a true
 * LRU (delete + re-insert per hit) costs more per hit than the lookup saves.
 *
 * The key is an unkeyed SHA-256: collision resistance is what makes a lookup exact, and the
 * one-shot `crypto.hash` costs half of an HMAC (no object per call).
 */
export class VerifiedSessionCache {
  private readonly slots = new Map<string, Slot>();
  private readonly ring: Slot[] = [];
  private hand = 0;

  constructor(private readonly maxEntries = DEFAULT_SESSION_CACHE_SIZE) {}

  /** Entries held now, expired ones not yet replaced included. */
  get size(): number {
    return this.slots.size;
  }

  keyOf(credential: string): string {
    return hash('sha256', credential, 'base64url');
  }

  get(key: string, nowSeconds: number): CachedSession | undefined {
    const slot = this.slots.get(key);
    if (slot === undefined) return undefined;
    if (slot.expiresAt <= nowSeconds) {
      // Its ring slot stays until the hand reaches it: unread, it goes first.
      this.slots.delete(key);
      return undefined;
    }
    slot.used = true;
    return slot;
  }

  set(key: string, session: AuthKitSession, refreshAt: number, expiresAt: number): void {
    if (this.maxEntries === 0) return;
    const known = this.slots.get(key);
    if (known !== undefined) {
      known.session = session;
      known.refreshAt = refreshAt;
      known.expiresAt = expiresAt;
      return;
    }
    const slot: Slot = { key, session, refreshAt, expiresAt, used: false };
    this.slots.set(key, slot);
    if (this.ring.length < this.maxEntries) {
      this.ring.push(slot);
      return;
    }
    // Terminates within one turn: every slot passed loses its flag.
    let victim = this.ring[this.hand] as Slot;
    while (victim.used) {
      victim.used = false;
      this.hand = (this.hand + 1) % this.maxEntries;
      victim = this.ring[this.hand] as Slot;
    }
    if (this.slots.get(victim.key) === victim) this.slots.delete(victim.key);
    this.ring[this.hand] = slot;
    this.hand = (this.hand + 1) % this.maxEntries;
  }

  clear(): void {
    this.slots.clear();
    this.ring.length = 0;
    this.hand = 0;
  }
}
