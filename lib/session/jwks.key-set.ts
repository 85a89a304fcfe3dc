import { Logger } from '@nestjs/common';
import { importJWK, type JWK } from 'jose';
import { KeyObject } from 'node:crypto';

/** What a token's `kid` finds once the set had its chance to refetch. */
export type KeyLookup =
  | { status: 'found'; key: KeyObject }
  /** A set fetched successfully within the cooldown has no such key: the token is bad. */
  | { status: 'unknown' }
  /** No good set, or the last fetch failed or answered no usable key: says nothing about the token. */
  | { status: 'unavailable' };

/** What the set holds now, read without fetching (health checks). */
export interface JwksKeySetState {
  /** Usable signing keys held (the last good set, however old). */
  keys: number;
  /** Milliseconds since that set was fetched; absent before the first good answer. */
  ageMs?: number;
  /** Past `maxAgeMs`: the next lookup refetches it in the background. */
  stale: boolean;
  /** Why the last fetch failed, when it did (no URL, no body): cleared by a good answer. */
  lastFailure?: string;
}

/** Timings; the defaults are what the module uses (tests pass shorter ones). */
export interface JwksTimings {
  /** A good set older than this is refetched in the background (and kept while that fails). */
  maxAgeMs: number;
  /** An unknown `kid` refetches a good set at most this often: no fetch storm (SECURITY 3). */
  cooldownMs: number;
  /** After the second failure in a row; doubles per failure up to `maxBackoffMs`. */
  firstBackoffMs: number;
  maxBackoffMs: number;
}

export const JWKS_TIMINGS: JwksTimings = {
  maxAgeMs: 10 * 60_000,
  cooldownMs: 30_000,
  firstBackoffMs: 1000,
  // Also the longest a repaired JWKS can go unnoticed while we hold no usable set.
  maxBackoffMs: 10_000,
};

/** jose's floor for RS256 (it checks at verify time; we verify with node:crypto). */
const MIN_RSA_MODULUS_BITS = 2048;

/**
 * The client's signing keys by `kid` (RS256, `use` sig or absent), fetched with `fetch`.
 * A good set is kept until a newer good one replaces it: a failed, empty or unusable answer
 * never does, nor does age (issue 10.7, SECURITY 32). Failures back off (the first retry is
 * immediate, so one blip costs nothing; then 1 s doubling to 10 s), and every fetch is shared
 * by whoever needs it meanwhile (single-flight). A known `kid` is a synchronous Map lookup.
 */
export class JwksKeySet {
  private readonly logger = new Logger('AuthKit');
  private keys = new Map<string, KeyObject>();
  /** When the current set was fetched; -Infinity before the first good answer. */
  private fetchedAt = Number.NEGATIVE_INFINITY;
  /** Failed (or unusable) answers since the last good one. */
  private failures = 0;
  /** Why the latest failed answer failed, until a good one. */
  private lastFailure?: string;
  /** No fetch before this time (back-off). */
  private retryAt = 0;
  private inFlight?: Promise<void>;
  private readonly closing = new AbortController();

  constructor(
    private readonly url: string,
    private readonly timeoutMs: number,
    private readonly timings: JwksTimings = JWKS_TIMINGS,
    private readonly now: () => number = () => Date.now(),
  ) {}

  /** The key for this `kid`, synchronously; a stale set is refreshed in the background. */
  find(kid: string | undefined): KeyObject | undefined {
    if (this.keys.size > 0 && this.now() - this.fetchedAt >= this.timings.maxAgeMs) {
      void this.refresh();
    }
    return this.pick(kid);
  }

  /** After `find` missed: refetch unless a good set just said the key does not exist. */
  async lookup(kid: string | undefined): Promise<KeyLookup> {
    if (!this.confirmedRecently()) await this.refresh();
    const key = this.pick(kid);
    if (key) return { status: 'found', key };
    return this.confirmedRecently() ? { status: 'unknown' } : { status: 'unavailable' };
  }

  /** The set's size, age and last failure; never fetches. */
  state(): JwksKeySetState {
    const ageMs = this.keys.size > 0 ? this.now() - this.fetchedAt : undefined;
    return {
      keys: this.keys.size,
      ...(ageMs === undefined ? {} : { ageMs }),
      stale: ageMs !== undefined && ageMs >= this.timings.maxAgeMs,
      ...(this.lastFailure === undefined ? {} : { lastFailure: this.lastFailure }),
    };
  }

  /** Aborts a fetch in flight and starts no other (module shutdown). */
  close(): void {
    this.closing.abort();
  }

  /** One fetch at a time, none during back-off; never rejects. */
  refresh(): Promise<void> {
    if (this.inFlight) return this.inFlight;
    if (this.closing.signal.aborted || this.now() < this.retryAt) return Promise.resolve();
    const attempt = this.fetchKeys()
      .then(
        (keys) => this.accepted(keys),
        (error: unknown) => this.failed(error),
      )
      .finally(() => {
        this.inFlight = undefined;
      });
    this.inFlight = attempt;
    return attempt;
  }

  /** A token without `kid` may use the only key, as jose allowed; never guess among several. */
  private pick(kid: string | undefined): KeyObject | undefined {
    if (kid !== undefined) return this.keys.get(kid);
    return this.keys.size === 1 ? this.keys.values().next().value : undefined;
  }

  private confirmedRecently(): boolean {
    return (
      this.failures === 0 &&
      this.keys.size > 0 &&
      this.now() - this.fetchedAt < this.timings.cooldownMs
    );
  }

  private async fetchKeys(): Promise<Map<string, KeyObject>> {
    const signal = AbortSignal.any([AbortSignal.timeout(this.timeoutMs), this.closing.signal]);
    const response = await fetch(this.url, {
      signal,
      redirect: 'manual',
      headers: { accept: 'application/json, application/jwk-set+json' },
    });
    if (response.status !== 200) {
      await response.body?.cancel().catch(() => undefined);
      throw new Error(`answered HTTP ${response.status}`);
    }
    let body: unknown;
    try {
      body = await response.json();
    } catch (error) {
      if (signal.aborted) throw error;
      throw new Error('answered something that is not JSON', { cause: error });
    }
    const keys = await usableKeys(body);
    if (keys.size === 0) throw new Error('answered no usable RS256 signing key');
    return keys;
  }

  private accepted(keys: Map<string, KeyObject>): void {
    if (this.failures > 0) {
      this.logger.log(`JWKS answers again: ${keys.size} signing key(s) from ${this.url}`);
    }
    this.keys = keys;
    this.fetchedAt = this.now();
    this.failures = 0;
    this.lastFailure = undefined;
    this.retryAt = 0;
  }

  private failed(error: unknown): void {
    if (this.closing.signal.aborted) return; // shutting down: nothing failed
    this.failures++;
    this.lastFailure = reasonOf(error);
    const { firstBackoffMs, maxBackoffMs } = this.timings;
    const backoff =
      this.failures === 1 ? 0 : Math.min(firstBackoffMs * 2 ** (this.failures - 2), maxBackoffMs);
    this.retryAt = this.now() + backoff;
    if (this.failures > 1) return; // said once per outage
    this.logger.warn(
      `JWKS fetch from ${this.url} failed (${this.lastFailure}): ` +
        (this.keys.size > 0
          ? `still verifying with the last good set (${this.keys.size} key(s))`
          : 'tokens are refused with 503 JWKS_UNAVAILABLE') +
        `; retrying with back-off up to ${maxBackoffMs / 1000} s. ` +
        'Check that the API host is reachable and clientId is right.',
    );
  }
}

/** The RS256 verification keys of a JWK set, by `kid`; anything else is skipped. */
export async function usableKeys(body: unknown): Promise<Map<string, KeyObject>> {
  const keys = new Map<string, KeyObject>();
  if (!isObject(body) || !Array.isArray(body.keys)) return keys;
  const ambiguous = new Set<string>();
  for (const jwk of body.keys as unknown[]) {
    if (!isRs256VerificationJwk(jwk)) continue;
    let key: KeyObject;
    try {
      // RSA JWKs import as a CryptoKey (never raw bytes), which KeyObject takes as is.
      const imported = await importJWK(jwk, 'RS256');
      key = KeyObject.from(imported as Parameters<typeof KeyObject.from>[0]);
    } catch {
      continue;
    }
    if ((key.asymmetricKeyDetails?.modulusLength ?? 0) < MIN_RSA_MODULUS_BITS) continue;
    // Two keys under one kid: which one signed is unknowable, so neither is used.
    if (keys.has(jwk.kid) || ambiguous.has(jwk.kid)) {
      keys.delete(jwk.kid);
      ambiguous.add(jwk.kid);
      continue;
    }
    keys.set(jwk.kid, key);
  }
  return keys;
}

function isRs256VerificationJwk(value: unknown): value is JWK & { kid: string } {
  if (!isObject(value)) return false;
  return (
    value.kty === 'RSA' &&
    typeof value.kid === 'string' &&
    (value.alg === undefined || value.alg === 'RS256') &&
    (value.use === undefined || value.use === 'sig') &&
    (value.key_ops === undefined ||
      (Array.isArray(value.key_ops) && value.key_ops.includes('verify'))) &&
    value.d === undefined // a private key has no business in a JWKS
  );
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Why a fetch failed, for the log (fetch's errors come from another realm under some runners). */
function reasonOf(error: unknown): string {
  if (!isObject(error)) return 'unknown error';
  if (error.name === 'TimeoutError') return 'timed out';
  if (error.name === 'AbortError') return 'was aborted';
  const message = typeof error.message === 'string' ? error.message.slice(0, 120) : 'error';
  const cause = error.cause;
  const code = isObject(cause) && typeof cause.code === 'string' ? ` (${cause.code})` : '';
  return `${message}${code}`;
}
