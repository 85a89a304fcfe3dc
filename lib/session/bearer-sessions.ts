import { MAX_BEARER_BYTES } from '../authkit.constants.js';
import type { AuthKitConfig } from '../authkit.options.js';
import type { AccessTokenVerifier } from './access-token.verifier.js';
import { fail, rejectedToken, revokedBearer } from './resolution-failures.js';
import type { RevokedSessions } from './revoked-sessions.js';
import { sessionOfClaims } from './session-of-claims.js';
import type { SessionResolution } from './session.types.js';
import type { VerifiedSessionCache } from './verified-session.cache.js';

const BEARER = /^Bearer +([A-Za-z0-9._~+/=-]+) *$/i;

/**
 * The Bearer path: an `Authorization: Bearer <access token>` to a session, verified once and
 * cached until `exp` (plus the clock leeway: a Bearer caller cannot refresh through us).
 *
 * @example
 * ```ts
 * const resolution = bearers.fromBearer(req.headers.authorization); // sync on a cache hit
 * ```
 */
export class BearerSessions {
  constructor(
    private readonly config: AuthKitConfig,
    private readonly verifier: AccessTokenVerifier,
    private readonly cache: VerifiedSessionCache,
    private readonly revoked: RevokedSessions,
  ) {}

  /** Synchronous when the token's session is cached. */
  fromBearer(authorization: string): SessionResolution | Promise<SessionResolution> {
    const token = authorization.length <= MAX_BEARER_BYTES + 10 && BEARER.exec(authorization)?.[1];
    if (!token) return fail('INVALID_JWT', 'malformed or oversized bearer token', 'bearer');
    // No dot, no JWS: a WorkOS API key (`sk_…`) on a route that may take it, or garbage.
    // Refused at once, synchronously, so the key path runs without a hash or an await first.
    if (!token.includes('.')) return fail('INVALID_JWT', 'not a compact JWS', 'bearer');
    const key = this.cache.keyOf(token);
    const now = Date.now() / 1000;
    const cached = this.cache.get(key, now);
    if (cached) {
      return this.revoked.has(cached.session.sessionId)
        ? revokedBearer()
        : { ok: true, session: cached.session, refreshed: false };
    }
    return this.verifyBearer(token, key, now);
  }

  private async verifyBearer(token: string, key: string, now: number): Promise<SessionResolution> {
    const check = await this.verifier.verify(token, now);
    switch (check.status) {
      case 'valid':
      case 'expired': {
        // A Bearer caller cannot refresh through us: a few seconds of skew must not refuse it.
        const expiresAt = check.claims.exp + this.config.clockToleranceSeconds;
        if (expiresAt <= now) return fail('EXPIRED_JWT', 'access token expired', 'bearer');
        this.revoked.observe(check.claims);
        if (await this.revoked.isRevoked(check.claims.sid)) return revokedBearer();
        const session = sessionOfClaims('bearer', token, check.claims);
        this.cache.set(key, session, Infinity, expiresAt);
        return { ok: true, session, refreshed: false };
      }
      default:
        return rejectedToken(check, 'bearer');
    }
  }
}
