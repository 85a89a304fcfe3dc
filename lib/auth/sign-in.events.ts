import type { User } from '@workos-inc/node';
import type { SignInErrorReason } from '../context/authkit-reason.js';
import type { HttpRequestLike } from '../context/carrier.js';
import type { AccessTokenClaims } from '../session/session.types.js';

export type { SignInErrorReason };

/**
 * A signed-in user, before the session cookie is written: what `signIn.callback.onSuccess` receives.
 *
 * @example
 * ```ts
 * onSuccess: async ({ user, organizationId }: SignInSuccessEvent) => {
 *   await users.upsert({ id: user.id, email: user.email, organizationId });
 * }
 * ```
 */
export interface SignInSuccessEvent {
  /** The WorkOS user, as the code exchange returned it. */
  user: User;
  /** The organization the session is scoped to (the token's `org_id`), if any. */
  organizationId?: string;
  /** The new access token's verified claims. */
  claims: AccessTokenClaims;
  /** How the user signed in, as WorkOS reports it (`Password`, `GoogleOAuth`, `SSO` …). */
  authenticationMethod?: string;
  /** Set when an admin signed in as this user from the WorkOS dashboard. */
  impersonator?: {
    /** The admin's email. */
    email: string;
    /** What the admin gave as the reason, if anything. */
    reason: string | null;
  };
  /** Where the browser goes next (already checked to be on the app's origin). */
  returnTo: string;
  /** The callback request (headers, URL), e.g. for an audit log. */
  req: HttpRequestLike;
}

/**
 * A refused sign-in callback: what `signIn.callback.onError` receives. Its `reason` can be
 * `STATE_MISSING`, `STATE_INVALID`, `STATE_MISMATCH`, `STATE_EXPIRED`, `STATE_REPLAYED`,
 * `CODE_MISSING`, `AUTHORIZATION_DENIED`, `CODE_REJECTED` (400); `SIGN_IN_UNAVAILABLE` (503,
 * WorkOS unreachable); `SESSION_TOO_LARGE`, `ON_SUCCESS_FAILED` (500).
 *
 * @example
 * ```ts
 * onError: ({ reason, status }: SignInErrorEvent) =>
 *   status === 400 ? { redirectTo: `/sign-in?retry=${reason}` } : undefined
 * ```
 */
export interface SignInErrorEvent {
  /** Why the callback refused (a stable string). */
  reason: SignInErrorReason;
  /** The HTTP status the default answer uses (400, 500 or 503). */
  status: 400 | 500 | 503;
  /** Safe to show: never a code, token or cookie value. */
  detail: string;
  /** What threw, for `ON_SUCCESS_FAILED` and upstream failures. */
  error?: unknown;
  /** The callback request (headers, URL). */
  req: HttpRequestLike;
}

/**
 * Hooks of the sign-in callback route (`signIn.callback` option): provision users, choose where the
 * browser goes, show your own error page.
 *
 * @example
 * ```ts
 * AuthKitModule.forRoot({
 *   routes: true,
 *   signIn: {
 *     callback: {
 *       onSuccess: async ({ user }) => {
 *         await users.upsert(user);
 *         return { returnTo: '/welcome' };
 *       },
 *       onError: ({ reason }) => ({ redirectTo: `/sign-in-failed?reason=${reason}` }),
 *     },
 *   },
 * });
 * ```
 */
export interface SignInCallbacks {
  /**
   * Runs after the code exchange, before the cookie is written: provision the user here.
   * Return `{ returnTo }` to send the browser elsewhere (on the app's origin); throwing
   * refuses the sign-in (`ON_SUCCESS_FAILED`, no cookie).
   */
  onSuccess?: (event: SignInSuccessEvent) =>
    | void
    | {
        /** Where the browser goes instead (on the app's origin). */
        returnTo?: string;
      }
    | Promise<void | {
        /** Where the browser goes instead (on the app's origin). */
        returnTo?: string;
      }>;
  /**
   * Runs when the callback refuses a request. Return `{ redirectTo }` (a path on the app's
   * origin) to show your own page; otherwise the answer is JSON `{ statusCode, reason, message }`.
   */
  onError?: (event: SignInErrorEvent) =>
    | void
    | {
        /** Your error page (a path on the app's origin). */
        redirectTo?: string;
      }
    | Promise<void | {
        /** Your error page (a path on the app's origin). */
        redirectTo?: string;
      }>;
}
