import type { AuthKitConfig } from '../authkit.options.js';
import type { AuthKitCarrier } from '../context/carrier.js';
import type { ClaimsFreshness } from './claims-freshness.js';
import type { CookieOpener } from './cookie-opener.js';
import type { CookieRenewal } from './cookie-renewal.js';
import {
  fail,
  rejectedToken,
  revokedCookie,
  SOCKETS_NEVER_REFRESH,
} from './resolution-failures.js';
import type { RevokedSessions } from './revoked-sessions.js';
import { sessionOfClaims } from './session-of-claims.js';
import type { SessionCookie } from './session.cookie.js';
import type { SessionResolution } from './session.types.js';
import type { VerifiedSessionCache } from './verified-session.cache.js';

/**
 * The cookie path: a session cookie to a session, from the cache when it was seen before, else
 * unsealed and verified; refreshed first when due or stale (over HTTP; a socket keeps it).
 *
 * @example
 * ```ts
 * const resolution = cookies.fromCookie(raw, carrier); // sync on a usable cache hit
 * ```
 */
export class CookieSessions {
  constructor(
    private readonly config: AuthKitConfig,
    private readonly cache: VerifiedSessionCache,
    private readonly revoked: RevokedSessions,
    private readonly cookie: SessionCookie,
    private readonly freshness: ClaimsFreshness,
    private readonly opener: CookieOpener,
    private readonly renewal: CookieRenewal,
  ) {}

  /** Synchronous when the cookie's session is cached and usable as is. */
  fromCookie(raw: string, carrier: AuthKitCarrier): SessionResolution | Promise<SessionResolution> {
    const key = this.cache.keyOf(raw);
    const now = Date.now();
    const nowSeconds = now / 1000;
    const cached = this.cache.get(key, nowSeconds);
    if (cached) {
      const { session } = cached;
      if (this.revoked.has(session.sessionId)) return revokedCookie(this.cookie, carrier);
      const notBefore = this.freshness.staleBefore(session, undefined, now);
      const resolution: SessionResolution = { ok: true, session, refreshed: false };
      return this.renewal.usableAsIs(session, cached.refreshAt, notBefore, nowSeconds, carrier)
        ? resolution
        : this.renewal.renew(carrier, resolution, notBefore);
    }
    return this.openCookieSession(raw, key, carrier, nowSeconds);
  }

  /** A cookie not in the cache: unseal, verify, and refresh it if it is due. */
  private async openCookieSession(
    raw: string,
    key: string,
    carrier: AuthKitCarrier,
    nowSeconds: number,
  ): Promise<SessionResolution> {
    const opened = await this.opener.open(raw);
    if (!opened.ok) {
      // The store lost the session (evicted, signed out): the cookie can never work again.
      if (opened.failure.reason === 'SESSION_NOT_FOUND' && carrier.res)
        this.cookie.clear(carrier.res);
      return opened;
    }
    const { data, check, reference } = opened;
    if (check.status === 'valid' || check.status === 'expired') {
      // First sight of this credential: the store knows what peers revoked before this
      // instance heard of it (or while it was starting).
      this.revoked.observe(check.claims);
      if (await this.revoked.isRevoked(check.claims.sid)) {
        return revokedCookie(this.cookie, carrier);
      }
    }
    switch (check.status) {
      case 'valid': {
        const { claims } = check;
        const session = sessionOfClaims('cookie', data.accessToken, claims, data);
        const refreshAt = this.renewal.cacheCookie(key, session);
        const notBefore = this.freshness.staleBefore(session);
        const resolution: SessionResolution = { ok: true, session, refreshed: false };
        return this.renewal.usableAsIs(session, refreshAt, notBefore, nowSeconds, carrier)
          ? resolution
          : this.renewal.renew(carrier, resolution, notBefore, { data, claims, reference });
      }
      case 'expired': {
        const session = sessionOfClaims('cookie', data.accessToken, check.claims, data);
        const notBefore = this.freshness.staleBefore(session);
        if (!carrier.res) {
          // A socket cannot refresh: it keeps the Bearer leeway (ConnectionSessions closes it
          // at the same moment).
          if (check.claims.exp + this.config.clockToleranceSeconds <= nowSeconds) {
            return fail('EXPIRED_JWT', SOCKETS_NEVER_REFRESH, 'cookie');
          }
          const resolution: SessionResolution = { ok: true, session, refreshed: false };
          return this.freshness.freshAt(session) >= notBefore
            ? resolution
            : { ...resolution, stale: true };
        }
        return this.renewal.refreshCookie(
          carrier,
          { data, claims: check.claims, reference },
          undefined,
          notBefore,
          'expiry',
        );
      }
      default:
        return rejectedToken(check, 'cookie');
    }
  }
}
