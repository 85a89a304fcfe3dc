import { Inject, Injectable, Logger } from '@nestjs/common';
import { AUTHKIT_CONFIG, MAX_BEARER_BYTES, MAX_CREDENTIAL_BYTES } from '../authkit.constants.js';
import type { AuthKitConfig } from '../authkit.options.js';
import type { RefreshCause } from '../metrics/refresh-cause.js';
import { header, type AuthKitCarrier, type HttpRequestLike } from '../context/carrier.js';
import { AccessTokenVerifier, type TokenCheck } from './access-token.verifier.js';
import { ClaimsWatermark } from './claims-watermark.js';
import { ConnectionSessions } from './connection-sessions.js';
import { refreshDueAt } from './refresh-due.js';
import { sessionEntries, type SessionEntry } from './request-context.js';
import { RevokedSessions } from './revoked-sessions.js';
import { SessionCookie } from './session.cookie.js';
import { SessionRefresher, type RefreshOutcome } from './session.refresher.js';
import { SessionSealer, type SessionReference } from './session.sealer.js';
import type {
  AccessTokenClaims,
  AuthKitFailure,
  AuthKitFailureReason,
  AuthKitSession,
  SealedSessionData,
  SessionResolution,
} from './session.types.js';
import { VerifiedSessionCache } from './verified-session.cache.js';

const BEARER = /^Bearer +([A-Za-z0-9._~+/=-]+) *$/i;
const SOCKETS_NEVER_REFRESH =
  'access token expired: a WebSocket connection never refreshes; refresh over HTTP, then reconnect';
const REVOKED = 'this session was revoked: sign in again';

/** `reference`: the store entry the cookie referred to, for a session too large for a cookie. */
type Opened = { data: SealedSessionData; claims: AccessTokenClaims; reference?: SessionReference };

/** A cookie that unsealed, with its token checked (possibly expired). */
export type OpenedCookie =
  | { ok: true; data: SealedSessionData; check: TokenCheck; reference?: SessionReference }
  | { ok: false; failure: AuthKitFailure };

/**
 * Turns a request into a session once: the first of guard / interceptor / service to ask
 * starts the work, the others await the same promise. Refreshes a genuine cookie session in its
 * own organization when its token is expired or about to (`refreshBufferSeconds`) and writes
 * the new cookie on the response: a handler never receives a cookie session's expired token.
 */
@Injectable()
export class SessionResolver {
  private readonly logger = new Logger('AuthKit');
  private readonly cache: VerifiedSessionCache;
  /**
   * Sessions this process refreshed, with when their exchange started: `iat` has whole seconds
   * only, and a token issued in the same second as a flag change would otherwise look stale.
   */
  private readonly freshSince = new WeakMap<AuthKitSession, number>();

  constructor(
    @Inject(AUTHKIT_CONFIG) private readonly config: AuthKitConfig,
    private readonly verifier: AccessTokenVerifier,
    private readonly refresher: SessionRefresher,
    private readonly cookie: SessionCookie,
    private readonly sealer: SessionSealer,
    private readonly watermark: ClaimsWatermark,
    private readonly connections: ConnectionSessions,
    private readonly revoked: RevokedSessions,
  ) {
    this.cache = new VerifiedSessionCache(config.sessionCacheSize);
    // Revocations may have been missed while the store was away: every cached credential is
    // checked against it again (verified anew) at its next request.
    revoked.onResync(() => this.cache.clear());
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
      this.connections.track(connection, resolution.session, this.freshAt(resolution.session));
    } else if (resolution.failure.status === 503) {
      // A connection lives long: a passing outage must not refuse it for good.
      sessionEntries.delete(entry.carrier.key);
    }
  }

  /**
   * Unix ms before which this session's claims count as stale: the latest change that can
   * affect it (its user, organization or claimed flags), or `maxClaimAge` ago, whichever is
   * later. `changes: 'access'` counts access changes only (memberships, roles, permissions):
   * what roles and permissions go stale by, as a flag change leaves them as they were. Exact
   * whenever the session is stale; otherwise no later than its `freshAt`.
   */
  staleBefore(
    session: AuthKitSession,
    maxClaimAge = this.config.maxClaimAge,
    now = Date.now(),
    changes: 'all' | 'access' = 'all',
  ): number {
    // `iat` bounds the scan as well as `freshAt` would (no later), without its WeakMap lookup.
    const since = session.claims.iat * 1000;
    const changed =
      changes === 'all'
        ? this.watermark.latestFor(session, since)
        : this.watermark.latestAccessFor(session, since);
    const aged = maxClaimAge === undefined ? 0 : now - maxClaimAge * 1000;
    return changed > aged ? changed : aged;
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
    const notBefore = this.staleBefore(resolution.session, maxClaimAge);
    if (this.freshAt(resolution.session) >= notBefore) return resolution;
    if (resolution.session.source !== 'cookie' || !carrier.res)
      return { ...resolution, stale: true };
    return this.renew(carrier, resolution, notBefore);
  }

  /** The cookie session's `sid`, read from its verified token even after it expired. */
  async cookieSessionId(req: HttpRequestLike): Promise<string | undefined> {
    const opened = await this.openCookie(req);
    return opened.ok && (opened.check.status === 'valid' || opened.check.status === 'expired')
      ? opened.check.claims.sid
      : undefined;
  }

  /** Unix ms as of which the session's claims are known to be current. */
  freshAt(session: AuthKitSession): number {
    return Math.max(session.claims.iat * 1000, this.freshSince.get(session) ?? 0);
  }

  /** Unseals this request's cookie and checks its token, expired or not. */
  async openCookie(req: HttpRequestLike): Promise<OpenedCookie> {
    const raw = this.cookie.read(req);
    if (raw === undefined)
      return { ok: false, failure: failure('NO_SESSION', 'no session cookie') };
    return this.open(raw);
  }

  /**
   * Refreshes a cookie session (in `organizationId`, else in the token's own organization),
   * writes the new cookie, and makes it this request's session. `cause`: why, for the metrics
   * (`explicit` when the app asks: SessionService, the switch-organization route).
   */
  async refreshCookie(
    carrier: AuthKitCarrier,
    opened: Opened,
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

  /** A refresh of a revoked session refused, made this request's resolution (as refreshes are). */
  private refusedRefresh(carrier: AuthKitCarrier): SessionResolution {
    const refused = this.refuseRevoked(carrier);
    this.override(carrier, refused);
    return refused;
  }

  /** Synchronous when the credential's session is cached and usable as is. */
  private resolveUncached(carrier: AuthKitCarrier): SessionResolution | Promise<SessionResolution> {
    const authorization = header(carrier.req, 'authorization');
    if (authorization !== undefined && /^bearer /i.test(authorization)) {
      return this.fromBearer(authorization);
    }
    if (carrier.token !== undefined) return this.fromBearer(`Bearer ${carrier.token}`);
    const raw = this.cookie.read(carrier.req);
    if (raw === undefined) return fail('NO_SESSION', 'no session cookie or bearer token');
    return this.fromCookie(raw, carrier);
  }

  private fromBearer(authorization: string): SessionResolution | Promise<SessionResolution> {
    const token = authorization.length <= MAX_BEARER_BYTES + 10 && BEARER.exec(authorization)?.[1];
    if (!token) return fail('INVALID_JWT', 'malformed or oversized bearer token', 'bearer');
    const key = this.cache.keyOf(token);
    const now = Date.now() / 1000;
    const cached = this.cache.get(key, now);
    if (cached) {
      return this.revoked.has(cached.session.sessionId)
        ? fail('SESSION_REVOKED', REVOKED, 'bearer')
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
        if (await this.revoked.isRevoked(check.claims.sid)) {
          return fail('SESSION_REVOKED', REVOKED, 'bearer');
        }
        const session = toSession('bearer', token, check.claims);
        this.cache.set(key, session, Infinity, expiresAt);
        return { ok: true, session, refreshed: false };
      }
      default:
        return rejectedToken(check, 'bearer');
    }
  }

  private fromCookie(
    raw: string,
    carrier: AuthKitCarrier,
  ): SessionResolution | Promise<SessionResolution> {
    const key = this.cache.keyOf(raw);
    const now = Date.now();
    const nowSeconds = now / 1000;
    const cached = this.cache.get(key, nowSeconds);
    if (cached) {
      const { session } = cached;
      if (this.revoked.has(session.sessionId)) return this.refuseRevoked(carrier);
      const notBefore = this.staleBefore(session, undefined, now);
      const resolution: SessionResolution = { ok: true, session, refreshed: false };
      return this.usableAsIs(session, cached.refreshAt, notBefore, nowSeconds, carrier)
        ? resolution
        : this.renew(carrier, resolution, notBefore);
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
    const opened = await this.open(raw);
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
      if (await this.revoked.isRevoked(check.claims.sid)) return this.refuseRevoked(carrier);
    }
    switch (check.status) {
      case 'valid': {
        const { claims } = check;
        const session = toSession('cookie', data.accessToken, claims, data);
        const refreshAt = this.cacheCookie(key, session);
        const notBefore = this.staleBefore(session);
        const resolution: SessionResolution = { ok: true, session, refreshed: false };
        return this.usableAsIs(session, refreshAt, notBefore, nowSeconds, carrier)
          ? resolution
          : this.renew(carrier, resolution, notBefore, { data, claims, reference });
      }
      case 'expired': {
        const session = toSession('cookie', data.accessToken, check.claims, data);
        const notBefore = this.staleBefore(session);
        if (!carrier.res) {
          // A socket cannot refresh: it keeps the Bearer leeway (ConnectionSessions closes it
          // at the same moment).
          if (check.claims.exp + this.config.clockToleranceSeconds <= nowSeconds) {
            return fail('EXPIRED_JWT', SOCKETS_NEVER_REFRESH, 'cookie');
          }
          const resolution: SessionResolution = { ok: true, session, refreshed: false };
          return this.freshAt(session) >= notBefore ? resolution : { ...resolution, stale: true };
        }
        return this.refreshCookie(
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

  /** A revoked session's refusal: never refreshed, its cookie cleared (it can never work again). */
  private refuseRevoked(carrier: AuthKitCarrier): SessionResolution {
    if (carrier.res) this.cookie.clear(carrier.res);
    return fail('SESSION_REVOKED', REVOKED, 'cookie');
  }

  /** Caches a verified cookie session until its `exp`; returns when it is due for refresh. */
  private cacheCookie(key: string, session: AuthKitSession): number {
    const { claims } = session;
    const refreshAt = refreshDueAt(claims, this.config.refreshBufferSeconds);
    this.cache.set(key, session, refreshAt, claims.exp);
    return refreshAt;
  }

  /**
   * Served as it is: its claims are not stale and it is not due for refresh (over HTTP; a
   * socket cannot refresh and keeps it until `exp`).
   */
  private usableAsIs(
    session: AuthKitSession,
    refreshAt: number,
    notBefore: number,
    nowSeconds: number,
    carrier: AuthKitCarrier,
  ): boolean {
    return this.freshAt(session) >= notBefore && (refreshAt > nowSeconds || !carrier.res);
  }

  /**
   * Refreshes a still-valid cookie session that is due (`refreshBufferSeconds`) or stale
   * (issued before `notBefore`). When WorkOS cannot be reached it is kept until its `exp`,
   * marked `stale` only when its claims are: a due token's flags are as current as ever.
   * A terminal failure (refresh token revoked) ends it now: WorkOS says the session is over.
   */
  private async renew(
    carrier: AuthKitCarrier,
    current: Extract<SessionResolution, { ok: true }>,
    notBefore: number,
    opened?: Opened,
  ): Promise<SessionResolution> {
    const kept: SessionResolution =
      this.freshAt(current.session) >= notBefore ? current : { ...current, stale: true };
    // Before any await: this request's entry may not exist yet, so nothing to override.
    if (!carrier.res) return kept;
    if (!opened) {
      const reopened = await this.openCookie(carrier.req);
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
    const cause = this.refreshCause(current.session);
    const fresh = await this.refreshCookie(carrier, opened, undefined, notBefore, cause);
    if (fresh.ok || fresh.failure.status !== 503) return fresh;
    // Past exp meanwhile: never handed to a handler.
    if (current.session.claims.exp <= Date.now() / 1000) return fresh;
    // refreshCookie made the failure this request's resolution: what is served replaces it.
    this.override(carrier, kept);
    return kept;
  }

  /**
   * Why a still-valid cookie session is refreshed. Due first: it would have been refreshed
   * anyway, so only the refreshes a flag change or `maxClaimAge` added are counted as theirs.
   */
  private refreshCause(session: AuthKitSession): RefreshCause {
    if (refreshDueAt(session.claims, this.config.refreshBufferSeconds) <= Date.now() / 1000) {
      return 'expiry';
    }
    // Not due, so stale: by a change affecting it if one came after its claims, else by age.
    const freshAt = this.freshAt(session);
    // Named for the latest change after its claims (access changes are in both logs).
    const latest = this.watermark.latestFor(session, freshAt);
    if (latest <= freshAt) return 'max_age';
    return this.watermark.latestAccessFor(session, freshAt) >= latest
      ? 'access_change'
      : 'flag_change';
  }

  private async open(raw: string): Promise<OpenedCookie> {
    if (raw.length > MAX_CREDENTIAL_BYTES) {
      return { ok: false, failure: failure('INVALID_SESSION', 'cookie too large', 'cookie') };
    }
    const unsealed = await this.sealer.fromCookie(raw);
    if (!unsealed.ok) return unsealed;
    const data = unsealed.data as Partial<SealedSessionData> | null;
    if (
      typeof data !== 'object' ||
      data === null ||
      typeof data.accessToken !== 'string' ||
      typeof data.refreshToken !== 'string'
    ) {
      return {
        ok: false,
        failure: failure('INVALID_SESSION', 'cookie payload incomplete', 'cookie'),
      };
    }
    const check = await this.verifier.verify(data.accessToken);
    return {
      ok: true,
      data: data as SealedSessionData,
      check,
      reference: unsealed.reference,
    };
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
      const session = toSession('cookie', outcome.data.accessToken, outcome.claims, outcome.data);
      this.freshSince.set(session, outcome.startedAt);
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

export function toSession(
  source: 'cookie' | 'bearer',
  accessToken: string,
  claims: AccessTokenClaims,
  data?: SealedSessionData,
): AuthKitSession {
  return {
    source,
    userId: claims.sub,
    user: data?.user,
    sessionId: claims.sid,
    organizationId: claims.org_id,
    role: claims.role,
    roles: claims.roles ?? (claims.role ? [claims.role] : []),
    permissions: claims.permissions ?? [],
    entitlements: claims.entitlements ?? [],
    featureFlags: claims.feature_flags ?? [],
    impersonatorId: claims.act?.sub,
    claims,
    accessToken,
  };
}

/** The failure for a token that did not verify (or whose keys could not be fetched). */
export function rejectedToken(
  check: Extract<TokenCheck, { status: 'invalid' | 'unavailable' }>,
  source: 'cookie' | 'bearer',
): SessionResolution {
  return { ok: false, failure: tokenFailure(check, source) };
}

export function tokenFailure(
  check: Extract<TokenCheck, { status: 'invalid' | 'unavailable' }>,
  source: 'cookie' | 'bearer',
): AuthKitFailure {
  return check.status === 'invalid'
    ? failure('INVALID_JWT', check.detail, source)
    : failure('JWKS_UNAVAILABLE', check.detail, source, 503);
}

function failure(
  reason: AuthKitFailureReason,
  detail: string,
  source?: 'cookie' | 'bearer',
  status: 401 | 503 = 401,
): AuthKitFailure {
  return { reason, status, detail, source };
}

function fail(
  reason: AuthKitFailureReason,
  detail: string,
  source?: 'cookie' | 'bearer',
): SessionResolution {
  return { ok: false, failure: failure(reason, detail, source) };
}

function unavailable(
  reason: AuthKitFailureReason,
  detail: string,
  source: 'cookie' | 'bearer',
): SessionResolution {
  return { ok: false, failure: failure(reason, detail, source, 503) };
}
