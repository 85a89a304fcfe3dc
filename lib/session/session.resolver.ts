import { Inject, Injectable, Logger } from '@nestjs/common';
import { AUTHKIT_CONFIG } from '../authkit.constants.js';
import type { AuthKitConfig } from '../authkit.options.js';
import type { RefreshCause } from '../metrics/refresh-cause.js';
import { header, type AuthKitCarrier, type HttpRequestLike } from '../context/carrier.js';
import { AccessTokenVerifier } from './access-token.verifier.js';
import { BearerSessions } from './bearer-sessions.js';
import { ClaimsFreshness } from './claims-freshness.js';
import { ConnectionSessions } from './connection-sessions.js';
import { CookieOpener, type OpenedCookie, type OpenedSession } from './cookie-opener.js';
import { CookieRenewal } from './cookie-renewal.js';
import { CookieSessions } from './cookie-sessions.js';
import { sessionEntries, type SessionEntry } from './request-context.js';
import { fail, unavailable } from './resolution-failures.js';
import { RevokedSessions } from './revoked-sessions.js';
import { SessionCookie } from './session.cookie.js';
import { SessionRefresher } from './session.refresher.js';
import { SessionSealer } from './session.sealer.js';
import type { SessionResolution } from './session.types.js';
import { VerifiedSessionCache } from './verified-session.cache.js';

/**
 * Turns a request into a session once: the first of guard / interceptor / service to ask
 * starts the work, the others await the same promise. Refreshes a genuine cookie session in its
 * own organization when its token is expired or about to (`refresh.bufferSeconds`) and writes
 * the new cookie on the response: a handler never receives a cookie session's expired token.
 *
 * This file holds the memo and which credential a carrier presents; the paths live beside it:
 * BearerSessions, CookieSessions (with CookieOpener), CookieRenewal (the refresh decision), and
 * ClaimsFreshness (the staleness rule, a provider of its own: flag decisions read it too).
 */
@Injectable()
export class SessionResolver {
  private readonly logger = new Logger('AuthKit');
  private readonly opener: CookieOpener;
  private readonly renewal: CookieRenewal;
  private readonly bearers: BearerSessions;
  private readonly cookies: CookieSessions;

  constructor(
    @Inject(AUTHKIT_CONFIG) private readonly config: AuthKitConfig,
    verifier: AccessTokenVerifier,
    refresher: SessionRefresher,
    private readonly cookie: SessionCookie,
    sealer: SessionSealer,
    private readonly freshness: ClaimsFreshness,
    private readonly connections: ConnectionSessions,
    revoked: RevokedSessions,
  ) {
    const cache = new VerifiedSessionCache(config.sessionCacheSize);
    // Revocations may have been missed while the store was away: every cached credential is
    // checked against it again (verified anew) at its next request.
    revoked.onResync(() => cache.clear());
    this.opener = new CookieOpener(cookie, sealer, verifier);
    this.renewal = new CookieRenewal(
      config,
      refresher,
      sealer,
      cookie,
      revoked,
      cache,
      this.freshness,
      this.opener,
      (carrier, resolution) => this.override(carrier, resolution),
    );
    this.bearers = new BearerSessions(config, verifier, cache, revoked);
    this.cookies = new CookieSessions(
      config,
      cache,
      revoked,
      cookie,
      this.freshness,
      this.opener,
      this.renewal,
    );
  }

  /** This request's (or connection's) session, resolved once per carrier key. */
  resolve(carrier: AuthKitCarrier): Promise<SessionResolution> {
    return this.entry(carrier).promise;
  }

  /** The memo entry of a carrier: started on first ask, read synchronously once settled. */
  entry(carrier: AuthKitCarrier): SessionEntry {
    const known = sessionEntries.get(carrier.key);
    if (known) return known;
    let result: SessionResolution | Promise<SessionResolution>;
    try {
      result = this.resolveUncached(carrier);
    } catch (error) {
      result = this.unexpected(error);
    }
    if (result instanceof Promise) {
      const pending: SessionEntry = {
        carrier,
        promise: result.catch((error: unknown) => this.unexpected(error)),
      };
      pending.promise.then((resolution) => this.settled(pending, resolution));
      sessionEntries.set(carrier.key, pending);
      return pending;
    }
    // A cache hit settles now: guards decide without a tick (a promise chain per request
    // costs more than the lookup, and every promise is hooked once AsyncLocalStorage is on).
    const settled: SessionEntry = { carrier, promise: Promise.resolve(result) };
    sessionEntries.set(carrier.key, settled);
    this.settled(settled, result);
    return settled;
  }

  /** Replaces this request's resolution, e.g. after an explicit refresh or org switch. */
  override(carrier: AuthKitCarrier, resolution: SessionResolution): void {
    const entry = this.entry(carrier);
    entry.promise = Promise.resolve(resolution);
    entry.resolution = resolution;
  }

  /** A bug or an odd upstream answer must not reach the client as a 500 or crash the process. */
  private unexpected(error: unknown): SessionResolution {
    this.logger.error(
      `session resolution failed unexpectedly: ${error instanceof Error ? error.message.slice(0, 120) : 'error'}`,
    );
    return unavailable('REFRESH_UNAVAILABLE', 'session could not be resolved now', 'cookie');
  }

  private settled(entry: SessionEntry, resolution: SessionResolution): void {
    if (sessionEntries.get(entry.carrier.key) !== entry) return;
    entry.resolution = resolution;
    const { connection } = entry.carrier;
    if (!connection) return;
    if (resolution.ok) {
      this.connections.track(
        connection,
        resolution.session,
        this.freshness.freshAt(resolution.session),
      );
    } else if (resolution.failure.status === 503) {
      // A connection lives long: a passing outage must not refuse it for good.
      sessionEntries.delete(entry.carrier.key);
    }
  }

  /**
   * This request's session, refreshed first when its claims are stale: a flag change affecting
   * it, or older than `maxClaimAge` (cookie sessions; a Bearer caller holds no refresh
   * token). When WorkOS cannot be reached the session is kept and marked `stale`, so flag
   * decisions can fail closed.
   */
  async ensureFresh(
    carrier: AuthKitCarrier,
    maxClaimAge = this.config.maxClaimAge,
  ): Promise<SessionResolution> {
    const resolution = await this.resolve(carrier);
    if (!resolution.ok) return resolution;
    const notBefore = this.freshness.staleBefore(resolution.session, maxClaimAge);
    if (this.freshness.freshAt(resolution.session) >= notBefore) return resolution;
    if (resolution.session.source !== 'cookie' || !carrier.res)
      return { ...resolution, stale: true };
    return this.renewal.renew(carrier, resolution, notBefore);
  }

  /** The cookie session's `sid`, read from its verified token even after it expired. */
  cookieSessionId(req: HttpRequestLike): Promise<string | undefined> {
    return this.opener.cookieSessionId(req);
  }

  /** Unseals this request's cookie and checks its token, expired or not. */
  openCookie(req: HttpRequestLike): Promise<OpenedCookie> {
    return this.opener.openCookie(req);
  }

  /**
   * Refreshes a cookie session (in `organizationId`, else in the token's own organization),
   * writes the new cookie, and makes it this request's session. `cause`: why, for the metrics
   * (`explicit` when the app asks: SessionService, the switch-organization route).
   */
  refreshCookie(
    carrier: AuthKitCarrier,
    opened: OpenedSession,
    organizationId?: string,
    notBefore?: number,
    cause?: RefreshCause,
  ): Promise<SessionResolution> {
    return this.renewal.refreshCookie(carrier, opened, organizationId, notBefore, cause);
  }

  /** Which credential the carrier presents: a Bearer token first, else the session cookie. */
  private resolveUncached(carrier: AuthKitCarrier): SessionResolution | Promise<SessionResolution> {
    const authorization = header(carrier.req, 'authorization');
    if (authorization !== undefined && /^bearer /i.test(authorization)) {
      return this.bearers.fromBearer(authorization);
    }
    if (carrier.token !== undefined) return this.bearers.fromBearer(`Bearer ${carrier.token}`);
    const raw = this.cookie.read(carrier.req);
    if (raw === undefined) return fail('NO_SESSION', 'no session cookie or bearer token');
    return this.cookies.fromCookie(raw, carrier);
  }
}
