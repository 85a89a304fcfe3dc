import { Inject, Injectable } from '@nestjs/common';
import { compactVerify, createRemoteJWKSet, errors } from 'jose';
import { AUTHKIT_CONFIG, MAX_CREDENTIAL_BYTES } from '../authkit.constants.js';
import type { AuthKitConfig } from '../authkit.options.js';
import type { AccessTokenClaims } from './session.types.js';

export type TokenCheck =
  | { status: 'valid'; claims: AccessTokenClaims }
  /** Genuine (signature, issuer, shape all good) but past `exp`: worth a refresh. */
  | { status: 'expired'; claims: AccessTokenClaims }
  | { status: 'invalid'; detail: string }
  /** The JWKS could not be fetched: says nothing about the token. */
  | { status: 'unavailable'; detail: string };

/** jose errors that condemn the token itself; any other failure is the key set's fetch. */
const TOKEN_ERRORS = new Set<string>([
  errors.JWSInvalid.code,
  errors.JWTInvalid.code,
  errors.JWSSignatureVerificationFailed.code,
  errors.JOSEAlgNotAllowed.code,
  errors.JOSENotSupported.code,
  errors.JWKSNoMatchingKey.code,
  errors.JWKSMultipleMatchingKeys.code,
  errors.JWKInvalid.code,
]);

/**
 * Verifies AuthKit access tokens: RS256 only, key by `kid` from the client's JWKS
 * (`jwk`/`jku` headers are never used), issuer pinned, `exp`/`sid`/`iat` required.
 * The signature is checked once; expiry is judged after it, so an expired token still
 * yields a trustworthy `org_id` for the refresh.
 */
@Injectable()
export class AccessTokenVerifier {
  private readonly jwks: ReturnType<typeof createRemoteJWKSet>;

  constructor(@Inject(AUTHKIT_CONFIG) private readonly config: AuthKitConfig) {
    // jose refetches on an unknown kid at most once per cooldown: no fetch storm.
    this.jwks = createRemoteJWKSet(new URL(config.jwksUrl), {
      cooldownDuration: 30_000,
      cacheMaxAge: 10 * 60_000,
      timeoutDuration: config.requestTimeoutMs,
    });
  }

  async verify(token: string, nowSeconds = Date.now() / 1000): Promise<TokenCheck> {
    if (token.length > MAX_CREDENTIAL_BYTES) return invalid('token too large');
    if (token.split('.').length !== 3) return invalid('not a compact JWS');
    let payload: Uint8Array;
    try {
      ({ payload } = await compactVerify(token, this.jwks, { algorithms: ['RS256'] }));
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      if (typeof code === 'string' && TOKEN_ERRORS.has(code)) return invalid(code);
      return { status: 'unavailable', detail: 'JWKS fetch failed' };
    }
    return checkClaims(payload, this.config.issuers, nowSeconds, this.config.clockToleranceSeconds);
  }
}

/** Claim rules applied after the signature holds. Exported for unit tests. */
export function checkClaims(
  payload: Uint8Array,
  issuers: readonly string[],
  now: number,
  tolerance: number,
): TokenCheck {
  let claims: unknown;
  try {
    claims = JSON.parse(new TextDecoder().decode(payload));
  } catch {
    return invalid('payload is not JSON');
  }
  if (typeof claims !== 'object' || claims === null || Array.isArray(claims)) {
    return invalid('payload is not an object');
  }
  const c = claims as Record<string, unknown>;
  if (typeof c.iss !== 'string' || !issuers.includes(c.iss)) return invalid('issuer not accepted');
  if (!isNonEmptyString(c.sub)) return invalid('sub missing');
  if (!isNonEmptyString(c.sid)) return invalid('sid missing');
  if (!isFiniteNumber(c.exp)) return invalid('exp missing or not a number');
  if (!isFiniteNumber(c.iat)) return invalid('iat missing or not a number');
  if (c.iat > now + tolerance) return invalid('iat in the future');
  if (c.nbf !== undefined && (!isFiniteNumber(c.nbf) || c.nbf > now + tolerance)) {
    return invalid('not valid yet (nbf)');
  }
  if (c.org_id !== undefined && typeof c.org_id !== 'string') return invalid('org_id not a string');
  for (const list of ['roles', 'permissions', 'entitlements', 'feature_flags'] as const) {
    if (c[list] !== undefined && !isStringArray(c[list])) return invalid(`${list} not a list`);
  }
  const verified = c as AccessTokenClaims;
  return c.exp <= now - tolerance
    ? { status: 'expired', claims: verified }
    : { status: 'valid', claims: verified };
}

function invalid(detail: string): TokenCheck {
  return { status: 'invalid', detail };
}

function isNonEmptyString(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0;
}

function isFiniteNumber(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((item) => typeof item === 'string');
}
