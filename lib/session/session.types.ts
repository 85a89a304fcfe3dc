import type { User } from '@workos-inc/node';
import type { AuthKitFailureReason } from '../context/authkit-reason.js';
import type { RefreshCause } from '../metrics/refresh-cause.js';

/**
 * Claims of a WorkOS AuthKit access token that this package reads; others (your JWT template's)
 * are there too, as `unknown`.
 *
 * @example
 * ```ts
 * const claims: AccessTokenClaims = this.sessions.current()!.claims;
 * const plan = typeof claims.plan === 'string' ? claims.plan : 'free'; // a template claim
 * ```
 */
export interface AccessTokenClaims {
  /** The issuer: the WorkOS API base URL (optionally with `/user_management/<clientId>`). */
  iss: string;
  /** The user id (`user_…`). */
  sub: string;
  /** The WorkOS session id (`session_…`), which refreshes keep. */
  sid: string;
  /** Expiry, in Unix seconds. */
  exp: number;
  /** Issue time, in Unix seconds: how old the token's claims are. */
  iat: number;
  /** Unix seconds of the sign-in behind the session; a refresh keeps it. */
  auth_time?: number;
  /** The organization the session is in, if any. */
  org_id?: string;
  /** The user's role slug in that organization. */
  role?: string;
  /** All of the user's role slugs in that organization (multiple roles). */
  roles?: string[];
  /** Permission slugs granted by the roles. */
  permissions?: string[];
  /** Entitlement slugs of the organization's plan. */
  entitlements?: string[];
  /** Slugs of the flags on for this user and organization when the token was issued. */
  feature_flags?: string[];
  /** Present while an admin impersonates the user. */
  act?: {
    /** The impersonating admin's id. */
    sub: string;
  };
  /** The token's own id. */
  jti?: string;
  [claim: string]: unknown;
}

/**
 * A verified session, read from the sealed cookie, a Bearer access token or a WorkOS API key:
 * what `@CurrentSession()` and `SessionService.current()` give.
 *
 * @example
 * ```ts
 * @Get('me')
 * me(@CurrentSession() session: AuthKitSession) {
 *   return { user: session.userId, org: session.organizationId, roles: session.roles };
 * }
 * ```
 */
export interface AuthKitSession {
  /** The credential: the sealed cookie, a Bearer access token, or a WorkOS API key. */
  source: 'cookie' | 'bearer' | 'api-key';
  /** The user id (`sub`); for an organization's API key, the key's id. */
  userId: string;
  /** The WorkOS user as the cookie carries it; absent for Bearer tokens. */
  user?: User;
  /** The WorkOS session id (`sid`); for an API key, the key's id. */
  sessionId: string;
  /** The organization the session is in (`org_id`), if any. */
  organizationId?: string;
  /** The role slug (`role`), if any. */
  role?: string;
  /** The role slugs (`roles`, else `[role]`); empty without any. */
  roles: string[];
  /** The permission slugs (`permissions`); empty without any. */
  permissions: string[];
  /** The entitlement slugs (`entitlements`); empty without any. */
  entitlements: string[];
  /** The flags on when the token was issued (`feature_flags`); empty without any. */
  featureFlags: string[];
  /** Set when an admin impersonates the user (the `act` claim). */
  impersonatorId?: string;
  /** The API key behind an `api-key` principal (never its value). */
  apiKey?: {
    /** The key's id (`api_key_…`). */
    id: string;
    /** The name given to the key at WorkOS. */
    name: string;
  };
  /** The token's claims; for an API key, the equivalent fields (`sub`, `org_id`, `permissions`). */
  claims: AccessTokenClaims;
  /** Empty for an API key: its value is never kept. */
  accessToken: string;
}

export type { AuthKitFailureReason };

/**
 * The session a request arrived with, when it was refreshed on the way in: its token's claims,
 * and why (`expiry`, `flag_change`, `access_change`, `max_age`, `explicit`).
 *
 * @example
 * ```ts
 * const replaced = sessions.refreshedFrom();
 * if (replaced?.cause === 'flag_change') log(replaced.claims.feature_flags);
 * ```
 */
export interface ReplacedSession {
  /** The claims of the token the request arrived with. */
  claims: AccessTokenClaims;
  /** Why it was refreshed. */
  cause: RefreshCause;
}

/**
 * Why a request has no usable session: what a failed `SessionResolution` carries, and what the
 * guards turn into an AuthKitException.
 *
 * @example
 * ```ts
 * const resolution = await this.sessions.authenticate(context);
 * if (!resolution.ok) throw new AuthKitException(resolution.failure);
 * ```
 */
export interface AuthKitFailure {
  /** A stable string: `NO_SESSION`, `EXPIRED_JWT`, `SESSION_REVOKED` … */
  reason: AuthKitFailureReason;
  /**
   * 401; 503 when WorkOS (or the session store) could not be reached and the session may still
   * be good; 500 when a refreshed session cannot be kept (`SESSION_TOO_LARGE`).
   */
  status: 401 | 500 | 503;
  /** Safe to show: never a token or cookie value. */
  detail: string;
  /** The credential that failed, when there was one. */
  source?: 'cookie' | 'bearer';
}

/**
 * A request's session, or why it has none: what `SessionService.authenticate()` and
 * `authenticateConnection()` answer. Never thrown: the guards throw for you.
 *
 * @example
 * ```ts
 * const resolution: SessionResolution = await this.sessions.authenticate(req, res);
 * if (resolution.ok) return resolution.session.userId;
 * if (resolution.failure.status === 503) return retryLater();
 * ```
 */
export type SessionResolution =
  | {
      /** There is a usable session. */
      ok: true;
      /** The verified session. */
      session: AuthKitSession;
      /** This request refreshed it (a new cookie goes out with the response). */
      refreshed: boolean;
      /** The claims predate a flag change or `maxClaimAge` and could not be refreshed. */
      stale?: boolean;
      /** Set when this request refreshed the session: what it arrived with, and why. */
      replaced?: ReplacedSession;
    }
  | {
      /** There is none. */
      ok: false;
      /** Why. */
      failure: AuthKitFailure;
    };

/** What the cookie holds: the SDK's own payload, so it stays readable by @workos-inc/node. */
export interface SealedSessionData {
  accessToken: string;
  refreshToken: string;
  user: User;
  organizationId?: string;
  authenticationMethod?: string;
  impersonator?: { email: string; reason: string | null };
}
