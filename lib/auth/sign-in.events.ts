import type { User } from '@workos-inc/node';
import type { SignInErrorReason } from '../context/authkit-reason.js';
import type { HttpRequestLike } from '../context/carrier.js';
import type { AccessTokenClaims } from '../session/session.types.js';

export type { SignInErrorReason };

/** A signed-in user, before the session cookie is written. */
export interface SignInSuccessEvent {
  user: User;
  organizationId?: string;
  claims: AccessTokenClaims;
  authenticationMethod?: string;
  impersonator?: { email: string; reason: string | null };
  /** Where the browser goes next (already checked to be on the app's origin). */
  returnTo: string;
  req: HttpRequestLike;
}

export interface SignInErrorEvent {
  reason: SignInErrorReason;
  /** The HTTP status the default answer uses (400, 500 or 503). */
  status: 400 | 500 | 503;
  /** Safe to show: never a code, token or cookie value. */
  detail: string;
  /** What threw, for `ON_SUCCESS_FAILED` and upstream failures. */
  error?: unknown;
  req: HttpRequestLike;
}

export interface SignInCallbacks {
  /**
   * Runs after the code exchange, before the cookie is written: provision the user here.
   * Return `{ returnTo }` to send the browser elsewhere (on the app's origin); throwing
   * refuses the sign-in (`ON_SUCCESS_FAILED`, no cookie).
   */
  onSuccess?: (
    event: SignInSuccessEvent,
  ) => void | { returnTo?: string } | Promise<void | { returnTo?: string }>;
  /**
   * Runs when the callback refuses a request. Return `{ redirectTo }` (a path on the app's
   * origin) to show your own page; otherwise the answer is JSON `{ statusCode, reason, message }`.
   */
  onError?: (
    event: SignInErrorEvent,
  ) => void | { redirectTo?: string } | Promise<void | { redirectTo?: string }>;
}
