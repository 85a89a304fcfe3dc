import { Inject, Injectable, Logger } from '@nestjs/common';
import type { AuthenticationResponse, WorkOS } from '@workos-inc/node';
import { AUTHKIT_CONFIG, WORKOS_CLIENT, WORKOS_GRANT_CLIENT } from '../authkit.constants.js';
import type { AuthKitConfig } from '../authkit.options.js';
import type { AuthKitReason } from '../context/authkit-reason.js';
import { httpCarrier, type HttpRequestLike } from '../context/carrier.js';
import { SessionCookie } from '../session/session.cookie.js';
import { classifyRefreshError, sessionFromAuthentication } from '../session/session.refresher.js';
import { ConnectionSessions } from '../session/connection-sessions.js';
import { RevokedSessions } from '../session/revoked-sessions.js';
import { tokenFailure } from '../session/resolution-failures.js';
import { SessionResolver } from '../session/session.resolver.js';
import { SessionSealer } from '../session/session.sealer.js';
import type { AuthKitFailure, SessionResolution } from '../session/session.types.js';
import { crossSiteReason } from './cross-site.js';
import { safeReturnTo } from './return-to.js';
import type { SignInErrorEvent, SignInErrorReason } from './sign-in.events.js';
import {
  checkSignInState,
  SIGN_IN_STATE_TTL_SECONDS,
  startSignIn,
  UsedStates,
} from './sign-in.state.js';

export const SIGN_IN_STATE_COOKIE = 'wos-auth-state';

export interface SignInQuery {
  returnTo?: unknown;
  organizationId?: unknown;
  loginHint?: unknown;
  /** Seconds: WorkOS asks the user to authenticate again unless they did within it. */
  maxAge?: unknown;
}

export interface CallbackQuery {
  code?: unknown;
  state?: unknown;
  error?: unknown;
  error_description?: unknown;
}

/** What a refused callback answers: JSON by default, or the app's own page. */
export type CallbackOutcome =
  { ok: true; redirectTo: string } | { ok: false; event: SignInErrorEvent; redirectTo?: string };

export type StateChangeOutcome =
  | { ok: true; redirectTo: string; body: Record<string, unknown> }
  | { ok: false; status: 400 | 401 | 403 | 500 | 503; reason: AuthKitReason; detail: string };

/**
 * The sign-in loop behind the auth routes: authorization URL with PKCE and a sealed state
 * cookie, the callback's checks and code exchange, sign-out and organization switch.
 */
@Injectable()
export class AuthService {
  private readonly logger = new Logger('AuthKit');
  private readonly usedStates = new UsedStates();
  private readonly redirectUri: URL;

  constructor(
    @Inject(AUTHKIT_CONFIG) private readonly config: AuthKitConfig,
    @Inject(WORKOS_CLIENT) private readonly workos: WorkOS,
    @Inject(WORKOS_GRANT_CLIENT) private readonly grants: WorkOS,
    private readonly cookie: SessionCookie,
    private readonly resolver: SessionResolver,
    private readonly connections: ConnectionSessions,
    private readonly sealer: SessionSealer,
    private readonly revoked: RevokedSessions,
  ) {
    if (!config.cookies) {
      throw new Error(
        'AuthKitModule routes sign users in with cookie sessions, which need apiKey and ' +
          'cookiePassword: pass both (or set WORKOS_API_KEY and WORKOS_COOKIE_PASSWORD), or drop ' +
          '`routes` for an API that only verifies Bearer tokens.',
      );
    }
    if (!config.redirectUri) {
      throw new Error(
        'AuthKitModule routes need redirectUri: pass { redirectUri: "https://app.example.com/auth/callback" } ' +
          'or set WORKOS_REDIRECT_URI (the callback URL registered in the WorkOS dashboard).',
      );
    }
    this.redirectUri = config.redirectUri;
  }

  /** The app's origin: redirects never leave it. */
  get origin(): string {
    return this.redirectUri.origin;
  }

  /** Starts a sign-in: sets the state cookie and returns WorkOS's authorization URL. */
  signInUrl(res: object, query: SignInQuery, screenHint: 'sign-in' | 'sign-up'): string {
    const returnTo = safeReturnTo(query.returnTo, this.origin);
    const started = startSignIn(returnTo, this.config.cookiePassword);
    this.cookie.writeOther(res, SIGN_IN_STATE_COOKIE, started.cookie, SIGN_IN_STATE_TTL_SECONDS);
    return this.workos.userManagement.getAuthorizationUrl({
      provider: 'authkit',
      clientId: this.config.clientId,
      redirectUri: this.redirectUri.href,
      state: started.state,
      codeChallenge: started.codeChallenge,
      codeChallengeMethod: 'S256',
      screenHint,
      organizationId: shortString(query.organizationId),
      loginHint: shortString(query.loginHint),
      // `max_age` (@workos-inc/node 10.6+): after `RECENT_AUTH_REQUIRED`, a fresh `auth_time`.
      ...maxAgeOf(query.maxAge),
    });
  }

  /** Finishes a sign-in. The state cookie is deleted whatever happens. */
  async callback(
    req: HttpRequestLike,
    res: object,
    query: CallbackQuery,
  ): Promise<CallbackOutcome> {
    const stateCookie = this.cookie.readOther(req, SIGN_IN_STATE_COOKIE);
    if (stateCookie !== undefined) this.cookie.clearOther(res, SIGN_IN_STATE_COOKIE);

    const state = checkSignInState(query.state, stateCookie, this.config.cookiePassword);
    if (!state.ok) return this.refuse(req, state.reason, 400, state.detail);
    if (!this.usedStates.claim(state.nonce, state.exp)) {
      return this.refuse(req, 'STATE_REPLAYED', 400, 'this sign-in was already completed');
    }
    if (typeof query.error === 'string') {
      return this.refuse(
        req,
        'AUTHORIZATION_DENIED',
        400,
        `WorkOS answered ${query.error.slice(0, 64)}`,
      );
    }
    const code = shortString(query.code);
    if (!code) return this.refuse(req, 'CODE_MISSING', 400, 'the callback has no usable code');

    let response: AuthenticationResponse;
    try {
      response = await this.grants.userManagement.authenticateWithCode({
        clientId: this.config.clientId,
        code,
        codeVerifier: state.codeVerifier,
      });
    } catch (error) {
      const failure = classifyRefreshError(error);
      return failure.terminal
        ? this.refuse(req, 'CODE_REJECTED', 400, `WorkOS refused the code: ${failure.detail}`)
        : this.refuse(
            req,
            'SIGN_IN_UNAVAILABLE',
            503,
            `WorkOS unreachable: ${failure.detail}`,
            error,
          );
    }

    const session = sessionFromAuthentication(response, this.config);
    if (!session.ok) {
      this.logger.error(`sign-in returned an unusable access token: ${session.detail}`);
      return this.refuse(
        req,
        'SIGN_IN_UNAVAILABLE',
        503,
        `unusable access token: ${session.detail}`,
      );
    }
    const { claims } = session;
    // Decided before onSuccess: a sign-in that cannot be kept provisions nothing. The old
    // cookie, if any, is kept.
    const cookie = await this.sealer.toCookie(session);
    if (!cookie.ok) {
      return cookie.reason === 'SESSION_TOO_LARGE'
        ? this.refuse(req, 'SESSION_TOO_LARGE', 500, cookie.detail)
        : this.refuse(req, 'SIGN_IN_UNAVAILABLE', 503, cookie.detail);
    }

    let returnTo = state.returnTo;
    const { onSuccess } = this.config.callback;
    if (onSuccess) {
      try {
        const result = await onSuccess({
          user: response.user,
          organizationId: claims.org_id,
          claims,
          authenticationMethod: response.authenticationMethod,
          impersonator: response.impersonator,
          returnTo,
          req,
        });
        if (result?.returnTo !== undefined) returnTo = safeReturnTo(result.returnTo, this.origin);
      } catch (error) {
        await this.sealer.forget(cookie.value);
        return this.refuse(req, 'ON_SUCCESS_FAILED', 500, 'the app refused the sign-in', error);
      }
    }
    this.cookie.write(res, cookie.value);
    this.logger.debug({
      event: 'sign-in',
      user: response.user.id,
      org: claims.org_id ?? null,
      sid: claims.sid,
    });
    return { ok: true, redirectTo: returnTo };
  }

  /**
   * Clears the session cookie, revokes the session (`sid`, read from a verified token even when
   * it expired) on every instance — a copy of its cookie or its access token is refused from
   * now on — and returns where to send the browser: WorkOS's logout URL for it, else home.
   */
  async signOut(
    req: HttpRequestLike,
    res: object,
    body: { returnTo?: unknown },
  ): Promise<StateChangeOutcome> {
    const crossSite = crossSiteReason(req, this.config.allowedOrigins);
    if (crossSite) return forbidden(crossSite);
    const returnTo = this.config.signOutReturnTo ?? safeReturnTo(body.returnTo, this.origin);
    const sessionId = await this.resolver.cookieSessionId(req);
    const raw = this.cookie.read(req);
    if (raw !== undefined) {
      this.cookie.clear(res);
      await this.sealer.forget(raw);
    }
    if (sessionId) {
      this.connections.endSession(sessionId);
      await this.revoked.revoke(sessionId, 'sign-out');
    }
    const redirectTo = sessionId
      ? this.workos.userManagement.getLogoutUrl({ sessionId, returnTo })
      : returnTo;
    return { ok: true, redirectTo, body: { signedOut: sessionId !== undefined, redirectTo } };
  }

  /** Refreshes the cookie session into another organization the user is an active member of. */
  async switchOrganization(
    req: HttpRequestLike,
    res: object,
    body: { organizationId?: unknown; returnTo?: unknown },
  ): Promise<StateChangeOutcome> {
    const crossSite = crossSiteReason(req, this.config.allowedOrigins);
    if (crossSite) return forbidden(crossSite);
    const organizationId = shortString(body.organizationId);
    if (!organizationId) {
      return {
        ok: false,
        status: 400,
        reason: 'ORGANIZATION_REQUIRED',
        detail: 'send { organizationId }',
      };
    }
    const opened = await this.resolver.openCookie(req);
    if (!opened.ok) return fromFailure(opened.failure);
    const { data, check, reference } = opened;
    if (check.status !== 'valid' && check.status !== 'expired') {
      return fromFailure(tokenFailure(check, 'cookie'));
    }

    // Ask first: a refresh into a foreign organization may spend the refresh token on an error.
    try {
      const memberships = await this.workos.userManagement.listOrganizationMemberships({
        userId: check.claims.sub,
        organizationId,
        statuses: ['active'],
      });
      if (memberships.data.length === 0) {
        return {
          ok: false,
          status: 403,
          reason: 'NOT_A_MEMBER',
          detail: 'the user is not an active member of that organization',
        };
      }
    } catch (error) {
      const failure = classifyRefreshError(error);
      return { ok: false, status: 503, reason: 'SWITCH_UNAVAILABLE', detail: failure.detail };
    }

    const resolution: SessionResolution = await this.resolver.refreshCookie(
      httpCarrier(req, res),
      { data, claims: check.claims, reference },
      organizationId,
    );
    if (!resolution.ok) return fromFailure(resolution.failure);
    const redirectTo = safeReturnTo(body.returnTo, this.origin);
    return {
      ok: true,
      redirectTo,
      body: { organizationId: resolution.session.organizationId ?? null, redirectTo },
    };
  }

  private async refuse(
    req: HttpRequestLike,
    reason: SignInErrorReason,
    status: 400 | 500 | 503,
    detail: string,
    error?: unknown,
  ): Promise<CallbackOutcome> {
    const log = status === 400 ? 'warn' : 'error';
    this.logger[log](`sign-in refused: ${reason}: ${detail}${errorName(error)}`);
    const event: SignInErrorEvent = { reason, status, detail, error, req };
    const { onError } = this.config.callback;
    if (onError) {
      try {
        const page = await onError(event);
        if (page?.redirectTo !== undefined) {
          return { ok: false, event, redirectTo: safeReturnTo(page.redirectTo, this.origin) };
        }
      } catch (hookError) {
        this.logger.error(`callback.onError threw${errorName(hookError)}`);
      }
    }
    return { ok: false, event };
  }
}

/** A `maxAge` query parameter: whole seconds, 0 to a year; anything else is ignored. */
function maxAgeOf(value: unknown): { maxAge?: number } {
  if (typeof value !== 'string' || !/^\d{1,8}$/.test(value)) return {};
  const seconds = Number(value);
  return seconds <= 365 * 24 * 3600 ? { maxAge: seconds } : {};
}

function shortString(value: unknown): string | undefined {
  return typeof value === 'string' && value.length > 0 && value.length <= 256 ? value : undefined;
}

function forbidden(detail: string): StateChangeOutcome {
  return { ok: false, status: 403, reason: 'CROSS_SITE_REQUEST', detail };
}

function fromFailure(failure: AuthKitFailure): StateChangeOutcome {
  return { ok: false, status: failure.status, reason: failure.reason, detail: failure.detail };
}

/** An error's class and message, never its data (SDK errors can carry request bodies). */
function errorName(error: unknown): string {
  if (!(error instanceof Error)) return '';
  return ` (${error.name}: ${error.message.slice(0, 200)})`;
}
