import type { TokenCheck } from './access-token.verifier.js';
import type { SessionCookie } from './session.cookie.js';
import type { AuthKitFailure, AuthKitFailureReason, SessionResolution } from './session.types.js';
import type { AuthKitCarrier } from '../context/carrier.js';

// The refusals the resolver's paths (Bearer, cookie, refresh) answer with, in one place so the
// same failure reads the same whichever path found it.

export const SOCKETS_NEVER_REFRESH =
  'access token expired: a WebSocket connection never refreshes; refresh over HTTP, then reconnect';
const REVOKED = 'this session was revoked: sign in again';

/** The failure for a token that did not verify (or whose keys could not be fetched). */
export function rejectedToken(
  check: Extract<TokenCheck, { status: 'invalid' | 'unavailable' }>,
  source: 'cookie' | 'bearer',
): SessionResolution {
  return { ok: false, failure: tokenFailure(check, source) };
}

export function tokenFailure(
  check: Extract<TokenCheck, { status: 'invalid' | 'unavailable' }>,
  source: 'cookie' | 'bearer',
): AuthKitFailure {
  return check.status === 'invalid'
    ? failure('INVALID_JWT', check.detail, source)
    : failure('JWKS_UNAVAILABLE', check.detail, source, 503);
}

/** A revoked Bearer token's refusal. */
export function revokedBearer(): SessionResolution {
  return fail('SESSION_REVOKED', REVOKED, 'bearer');
}

/** A revoked session's refusal: never refreshed, its cookie cleared (it can never work again). */
export function revokedCookie(cookie: SessionCookie, carrier: AuthKitCarrier): SessionResolution {
  if (carrier.res) cookie.clear(carrier.res);
  return fail('SESSION_REVOKED', REVOKED, 'cookie');
}

export function failure(
  reason: AuthKitFailureReason,
  detail: string,
  source?: 'cookie' | 'bearer',
  status: 401 | 503 = 401,
): AuthKitFailure {
  return { reason, status, detail, source };
}

export function fail(
  reason: AuthKitFailureReason,
  detail: string,
  source?: 'cookie' | 'bearer',
): SessionResolution {
  return { ok: false, failure: failure(reason, detail, source) };
}

export function unavailable(
  reason: AuthKitFailureReason,
  detail: string,
  source: 'cookie' | 'bearer',
): SessionResolution {
  return { ok: false, failure: failure(reason, detail, source, 503) };
}
