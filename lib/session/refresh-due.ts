import type { AccessTokenClaims } from './session.types.js';

/** authkit-nextjs's margins: 60 s before `exp`, 30 s for tokens that live 5 minutes or less. */
const BUFFER_SECONDS = 60;
const SHORT_BUFFER_SECONDS = 30;
const SHORT_LIFETIME_SECONDS = 300;

/**
 * Unix seconds from which a cookie session's token is refreshed before a request uses it:
 * `bufferSeconds` before `exp` (unset: authkit-nextjs's rule), but never in the first half of
 * the token's life, or a short-lived token would be refreshed on every request.
 */
export function refreshDueAt(
  claims: Pick<AccessTokenClaims, 'exp' | 'iat'>,
  bufferSeconds: number | undefined,
): number {
  const lifetime = claims.exp - claims.iat;
  const buffer =
    bufferSeconds ?? (lifetime <= SHORT_LIFETIME_SECONDS ? SHORT_BUFFER_SECONDS : BUFFER_SECONDS);
  return claims.exp - Math.max(0, Math.min(buffer, lifetime / 2));
}
