/**
 * Why a request has no usable session. Stable strings: clients may switch on them.
 *
 * @example
 * ```ts
 * if (resolution.failure.reason === 'REFRESH_UNAVAILABLE') retryLater();
 * ```
 */
export type AuthKitFailureReason =
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
  /** The session (`sid`) was revoked (WorkOS `session.revoked`, `revoke()`, sign-out): sign in again. */
  | 'SESSION_REVOKED'
  /** The cookie refers to a session kept in the store, and the store no longer has it. */
  | 'SESSION_NOT_FOUND'
  /** The store that keeps sessions too large for a cookie could not be reached (503). */
  | 'STORE_UNAVAILABLE'
  /**
   * A refreshed session seals larger than a browser keeps in a cookie and nowhere else is
   * configured to keep it (500): use RedisStore, `largeSessions: 'store'`, or trim the token.
   */
  | 'SESSION_TOO_LARGE'
  /** A Nest context this package cannot read a credential from (e.g. rpc without a subclass). */
  | 'UNSUPPORTED_CONTEXT'
  /** An API key WorkOS does not know, or revoked, or not a key at all, where keys are allowed. */
  | 'INVALID_API_KEY'
  /** WorkOS could not validate an API key now (503; not cached: the next request asks again). */
  | 'API_KEY_UNAVAILABLE';

/**
 * Why the sign-in callback refused a request. Stable strings: pages may switch on them.
 *
 * @example
 * ```ts
 * onError: ({ reason }) => ({ redirectTo: `/sign-in-failed?reason=${reason}` })
 * ```
 */
export type SignInErrorReason =
  | 'STATE_MISSING'
  | 'STATE_INVALID'
  | 'STATE_MISMATCH'
  | 'STATE_EXPIRED'
  | 'STATE_REPLAYED'
  | 'CODE_MISSING'
  | 'AUTHORIZATION_DENIED'
  | 'CODE_REJECTED'
  | 'SIGN_IN_UNAVAILABLE'
  /** Also a session failure (a refresh), hence in both unions. */
  | 'SESSION_TOO_LARGE'
  | 'ON_SUCCESS_FAILED';

/**
 * Why an access check refused. Stable strings: clients may switch on them.
 *
 * @example
 * ```ts
 * if (error.reason === 'RECENT_AUTH_REQUIRED') location.assign(`/auth/login?maxAge=${error.maxAge}`);
 * ```
 */
export type AccessRefusalReason =
  /** `@RequirePermission`: the token's `permissions` lack one (`missing` lists them). */
  | 'PERMISSION_DENIED'
  /** `@RequireRole`: none of the roles is in the token's `roles` (or `role`). */
  | 'ROLE_REQUIRED'
  /** `@RequireEntitlement`: the token's `entitlements` lack one. */
  | 'ENTITLEMENT_REQUIRED'
  /** `@RequireOrganization`: the session is not in an organization (also the switch route's). */
  | 'ORGANIZATION_REQUIRED'
  /** `@RequireOrganization({ param })`: the request names another organization than the token. */
  | 'ORGANIZATION_MISMATCH'
  /** `@DenyImpersonation`: an admin is impersonating the user (the `act` claim). */
  | 'IMPERSONATION_DENIED'
  /** `@RequireRecentAuth`: the sign-in (`auth_time`) is older than `maxAge` (401). */
  | 'RECENT_AUTH_REQUIRED'
  /** `@RequireClaim`: the test refused the claim. */
  | 'CLAIM_REQUIRED'
  /** `{ credentials }`: the principal came with another kind of credential (`cookie`, `bearer`, `api-key`). */
  | 'CREDENTIAL_NOT_ALLOWED';

/**
 * Every reason the package can answer with. Stable strings: clients may switch on them.
 *
 * @example
 * ```ts
 * if (error.reason === 'FLAG_DISABLED') showUpgradePrompt(error.extra.flags);
 * ```
 */
export type AuthKitReason =
  | AuthKitFailureReason
  // Flag decisions.
  | 'FLAG_DISABLED'
  | 'FLAGS_UNAVAILABLE'
  // Access decisions (`@RequirePermission` and the other `@Require…` decorators).
  | AccessRefusalReason
  | SignInErrorReason
  // Sign-out and organization switch.
  | 'CROSS_SITE_REQUEST'
  | 'NOT_A_MEMBER'
  | 'SWITCH_UNAVAILABLE'
  // The webhook route.
  | 'SIGNATURE_MISSING'
  | 'SIGNATURE_INVALID'
  | 'RAW_BODY_MISSING'
  /** A webhook request whose content type is not `application/json`. */
  | 'UNSUPPORTED_MEDIA_TYPE';
