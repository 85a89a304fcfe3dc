import type { User } from '@workos-inc/node';
import type { AuthKitFailureReason } from '../context/authkit-reason.js';
import type { RefreshCause } from '../metrics/refresh-cause.js';

/** Claims of a WorkOS AuthKit access token that this package reads. */
export interface AccessTokenClaims {
  iss: string;
  sub: string;
  sid: string;
  exp: number;
  iat: number;
  /** Unix seconds of the sign-in behind the session; a refresh keeps it. */
  auth_time?: number;
  org_id?: string;
  role?: string;
  roles?: string[];
  permissions?: string[];
  entitlements?: string[];
  feature_flags?: string[];
  act?: { sub: string };
  jti?: string;
  [claim: string]: unknown;
}

/** A verified session, read from the sealed cookie or from a Bearer access token. */
export interface AuthKitSession {
  /** The credential: the sealed cookie, a Bearer access token, or a WorkOS API key. */
  source: 'cookie' | 'bearer' | 'api-key';
  userId: string;
  /** The WorkOS user as the cookie carries it; absent for Bearer tokens. */
  user?: User;
  sessionId: string;
  organizationId?: string;
  role?: string;
  roles: string[];
  permissions: string[];
  entitlements: string[];
  featureFlags: string[];
  /** Set when an admin impersonates the user (the `act` claim). */
  impersonatorId?: string;
  /** The API key behind an `api-key` principal (never its value). */
  apiKey?: { id: string; name: string };
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
  claims: AccessTokenClaims;
  cause: RefreshCause;
}

export interface AuthKitFailure {
  reason: AuthKitFailureReason;
  /**
   * 401; 503 when WorkOS (or the session store) could not be reached and the session may still
   * be good; 500 when a refreshed session cannot be kept (`SESSION_TOO_LARGE`).
   */
  status: 401 | 500 | 503;
  /** Safe to show: never a token or cookie value. */
  detail: string;
  source?: 'cookie' | 'bearer';
}

export type SessionResolution =
  | {
      ok: true;
      session: AuthKitSession;
      refreshed: boolean;
      /** The claims predate a flag change or `maxClaimAge` and could not be refreshed. */
      stale?: boolean;
      /** Set when this request refreshed the session: what it arrived with, and why. */
      replaced?: ReplacedSession;
    }
  | { ok: false; failure: AuthKitFailure };

/** What the cookie holds: the SDK's own payload, so it stays readable by @workos-inc/node. */
export interface SealedSessionData {
  accessToken: string;
  refreshToken: string;
  user: User;
  organizationId?: string;
  authenticationMethod?: string;
  impersonator?: { email: string; reason: string | null };
}
