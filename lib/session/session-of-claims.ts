import type { AccessTokenClaims, AuthKitSession, SealedSessionData } from './session.types.js';

/**
 * A verified token's claims in the shape decorators and handlers read (plus the cookie's user,
 * when the session came from one).
 *
 * @example
 * ```ts
 * const session = sessionOfClaims('bearer', token, check.claims);
 * ```
 */
export function sessionOfClaims(
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
