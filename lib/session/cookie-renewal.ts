import { Logger } from '@nestjs/common';
import type { AuthKitConfig } from '../authkit.options.js';
import type { AuthKitCarrier } from '../context/carrier.js';
import type { RefreshCause } from '../metrics/refresh-cause.js';
import type { ClaimsFreshness } from './claims-freshness.js';
import type { CookieOpener, OpenedSession } from './cookie-opener.js';
import { refreshDueAt } from './refresh-due.js';
import { fail, revokedCookie, SOCKETS_NEVER_REFRESH, unavailable } from './resolution-failures.js';
import type { RevokedSessions } from './revoked-sessions.js';
import { sessionOfClaims } from './session-of-claims.js';
import type { SessionCookie } from './session.cookie.js';
import type { RefreshOutcome, SessionRefresher } from './session.refresher.js';
import type { SessionReference, SessionSealer } from './session.sealer.js';
import type { AuthKitSession, SessionResolution } from './session.types.js';
import type { VerifiedSessionCache } from './verified-session.cache.js';

/** Makes a resolution this request's: the resolver's memo, which a refresh replaces. */
export type OverrideResolution = (carrier: AuthKitCarrier, resolution: SessionResolution) => void;

/**
 * The refresh decision for cookie sessions: when one is served as it is, when it is refreshed
 * (due, or its claims stale), and what a refresh's outcome becomes — a new cookie and session,
 * the old one kept through an outage, or the end of it.
 *
 * @example
 * ```ts
 * return renewal.usableAsIs(session, refreshAt, notBefore, now, carrier)
 *   ? resolution
 *   : renewal.renew(carrier, resolution, notBefore);
 * ```
 */
export class CookieRenewal {
  private readonly logger = new Logger('AuthKit');

  constructor(
    private readonly config: AuthKitConfig,
    private readonly refresher: SessionRefresher,
    private readonly sealer: SessionSealer,
    private readonly cookie: SessionCookie,
    private readonly revoked: RevokedSessions,
    private readonly cache: VerifiedSessionCache,
    private readonly freshness: ClaimsFreshness,
    private readonly opener: CookieOpener,
    private readonly override: OverrideResolution,
  ) {}

  /** Caches a verified cookie session until its `exp`; returns when it is due for refresh. */
  cacheCookie(key: string, session: AuthKitSession): number {
    const { claims } = session;
    const refreshAt = refreshDueAt(claims, this.config.refreshBufferSeconds);
    this.cache.set(key, session, refreshAt, claims.exp);
    return refreshAt;
  }

  /**
   * Served as it is: its claims are not stale and it is not due for refresh (over HTTP; a
   * socket cannot refresh and keeps it until `exp`).
   */
  usableAsIs(
    session: AuthKitSession,
    refreshAt: number,
    notBefore: number,
    nowSeconds: number,
    carrier: AuthKitCarrier,
  ): boolean {
    return this.freshness.freshAt(session) >= notBefore && (refreshAt > nowSeconds || !carrier.res);
  }

  /**
   * Refreshes a cookie session (in `organizationId`, else in the token's own organization),
   * writes the new cookie, and makes it this request's session. `cause`: why, for the metrics
   * (`explicit` when the app asks: SessionService, the switch-organization route).
   */
  async refreshCookie(
    carrier: AuthKitCarrier,
    opened: OpenedSession,
    organizationId: string | undefined = opened.claims.org_id ?? opened.data.organizationId,
    notBefore = 0,
    cause: RefreshCause = 'explicit',
  ): Promise<SessionResolution> {
    // Never refreshed: WorkOS may not know yet (a sign-out here), and a refresh would hand out
    // a fresh token of a revoked session.
    if (this.revoked.has(opened.claims.sid)) return this.refusedRefresh(carrier);
    let outcome = await this.refresher.refresh(opened.data, organizationId, notBefore, cause);
    if (outcome.ok && organizationId !== undefined && outcome.claims.org_id !== organizationId) {
      // Joined a refresh already under way for another organization: go on from its result.
      outcome = await this.refresher.refresh(outcome.data, organizationId, notBefore, cause);
    }
    // Revoked while the exchange was under way: its result is not handed out either.
    if (this.revoked.has(opened.claims.sid)) return this.refusedRefresh(carrier);
    const applied = await this.applyRefresh(carrier, outcome, opened.reference);
    const resolution: SessionResolution = applied.ok
      ? { ...applied, replaced: { claims: opened.claims, cause } }
      : applied;
    this.override(carrier, resolution);
    return resolution;
  }

  /**
   * Refreshes a still-valid cookie session that is due (`refresh.bufferSeconds`) or stale
   * (issued before `notBefore`). When WorkOS cannot be reached it is kept until its `exp`,
   * marked `stale` only when its claims are: a due token's flags are as current as ever.
   * A terminal failure (refresh token revoked) ends it now: WorkOS says the session is over.
   */
  async renew(
    carrier: AuthKitCarrier,
    current: Extract<SessionResolution, { ok: true }>,
    notBefore: number,
    opened?: OpenedSession,
  ): Promise<SessionResolution> {
    const kept: SessionResolution =
      this.freshness.freshAt(current.session) >= notBefore ? current : { ...current, stale: true };
    // Before any await: this request's entry may not exist yet, so nothing to override.
    if (!carrier.res) return kept;
    if (!opened) {
      const reopened = await this.opener.openCookie(carrier.req);
      if (
        !reopened.ok ||
        reopened.check.status === 'invalid' ||
        reopened.check.status === 'unavailable'
      ) {
        this.override(carrier, kept);
        return kept;
      }
      opened = {
        data: reopened.data,
        claims: reopened.check.claims,
        reference: reopened.reference,
      };
    }
    const cause = this.freshness.refreshCause(current.session);
    const fresh = await this.refreshCookie(carrier, opened, undefined, notBefore, cause);
    if (fresh.ok || fresh.failure.status !== 503) return fresh;
    // Past exp meanwhile: never handed to a handler.
    if (current.session.claims.exp <= Date.now() / 1000) return fresh;
    // refreshCookie made the failure this request's resolution: what is served replaces it.
    this.override(carrier, kept);
    return kept;
  }

  /** A refresh of a revoked session refused, made this request's resolution (as refreshes are). */
  private refusedRefresh(carrier: AuthKitCarrier): SessionResolution {
    const refused = revokedCookie(this.cookie, carrier);
    this.override(carrier, refused);
    return refused;
  }

  private async applyRefresh(
    carrier: AuthKitCarrier,
    outcome: RefreshOutcome,
    previous: SessionReference | undefined,
  ): Promise<SessionResolution> {
    const { res } = carrier;
    if (!res) return fail('EXPIRED_JWT', SOCKETS_NEVER_REFRESH, 'cookie');
    if (outcome.ok) {
      const cookie = await this.sealer.toCookie(outcome, previous);
      if (!cookie.ok) {
        // Keep the old cookie: a cookie the browser would drop signs the user out silently,
        // and a store that blinked must not end the session.
        const { reason, status, detail } = cookie;
        return { ok: false, failure: { reason, status, detail, source: 'cookie' } };
      }
      this.cookie.write(res, cookie.value);
      const session = sessionOfClaims(
        'cookie',
        outcome.data.accessToken,
        outcome.claims,
        outcome.data,
      );
      this.freshness.refreshedAt(session, outcome.startedAt);
      this.cacheCookie(this.cache.keyOf(cookie.value), session);
      return { ok: true, session, refreshed: true };
    }
    if (outcome.terminal) {
      // The refresh token is dead: the cookie can never work again.
      this.cookie.clear(res);
      return fail('REFRESH_FAILED', outcome.detail, 'cookie');
    }
    // WorkOS could not be reached: keep the cookie, the next request tries again.
    this.logger.debug(`session kept after failed refresh: ${outcome.detail}`);
    return unavailable('REFRESH_UNAVAILABLE', outcome.detail, 'cookie');
  }
}
