/**
 * Every reason the package can answer with. Stable strings: clients may switch on them.
 *
 * @example
 * ```ts
 * if (error.reason === 'REFRESH_UNAVAILABLE') retryLater();
 * ```
 */
export type AuthKitReason =
  // No usable session.
  | 'NO_SESSION'
  | 'INVALID_SESSION'
  | 'INVALID_JWT'
  | 'EXPIRED_JWT'
  | 'REFRESH_FAILED'
  | 'REFRESH_UNAVAILABLE'
  | 'JWKS_UNAVAILABLE'
  /** A token older than a flag change or `maxClaimAge`, with no live answer at hand. */
  | 'STALE_CLAIMS'
  /** A WebSocket connection whose session was signed out on this instance. */
  | 'SESSION_ENDED'
  // Flag decisions.
  | 'FLAG_DISABLED'
  | 'FLAGS_UNAVAILABLE'
  // The sign-in callback.
  | 'STATE_MISSING'
  | 'STATE_INVALID'
  | 'STATE_MISMATCH'
  | 'STATE_EXPIRED'
  | 'STATE_REPLAYED'
  | 'CODE_MISSING'
  | 'AUTHORIZATION_DENIED'
  | 'CODE_REJECTED'
  | 'SIGN_IN_UNAVAILABLE'
  | 'SESSION_TOO_LARGE'
  | 'ON_SUCCESS_FAILED'
  // Sign-out and organization switch.
  | 'CROSS_SITE_REQUEST'
  | 'ORGANIZATION_REQUIRED'
  | 'NOT_A_MEMBER'
  | 'SWITCH_UNAVAILABLE'
  // The webhook route.
  | 'SIGNATURE_MISSING'
  | 'SIGNATURE_INVALID'
  | 'RAW_BODY_MISSING'
  /** A Nest context this package cannot read a credential from (e.g. rpc without a subclass). */
  | 'UNSUPPORTED_CONTEXT';
