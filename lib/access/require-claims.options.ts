/**
 * Options of `@RequirePermission` and `@RequireEntitlement`.
 *
 * @example
 * ```ts
 * @RequirePermission(['reports:read', 'reports:export'], { mode: 'any', credentials: ['cookie'] })
 * ```
 */
export interface RequireClaimsOptions {
  /** 'all' (default): every slug must be held; 'any': one is enough. */
  mode?: 'all' | 'any';
  /**
   * The credentials this route takes (`AuthKitSession.source`): e.g. `['cookie']` keeps API
   * keys and Bearer tokens out of a browser-only route. 403 `CREDENTIAL_NOT_ALLOWED` otherwise.
   */
  credentials?: readonly ('cookie' | 'bearer' | 'api-key')[];
}
