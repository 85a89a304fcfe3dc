import { Inject, Injectable } from '@nestjs/common';
import { createRemoteJWKSet, errors, type JWSHeaderParameters } from 'jose';
import { KeyObject, verify as verifySignature } from 'node:crypto';
import { AUTHKIT_CONFIG, MAX_BEARER_BYTES } from '../authkit.constants.js';
import type { AuthKitConfig } from '../authkit.options.js';
import type { AccessTokenClaims } from './session.types.js';

export type TokenCheck =
  | { status: 'valid'; claims: AccessTokenClaims }
  /** Genuine (signature, issuer, shape all good) but past `exp`: worth a refresh. */
  | { status: 'expired'; claims: AccessTokenClaims }
  | { status: 'invalid'; detail: string }
  /** The JWKS could not be fetched: says nothing about the token. */
  | { status: 'unavailable'; detail: string };

/** A jose key-set error that condemns the token (no such key); anything else is the fetch. */
const KEY_ERRORS = new Set<string>([
  errors.JWKSNoMatchingKey.code,
  errors.JWKSMultipleMatchingKeys.code,
  errors.JWKInvalid.code,
  errors.JOSENotSupported.code,
]);
const B64URL = /^[A-Za-z0-9_-]+$/;

/**
 * Verifies AuthKit access tokens: RS256 only, the key chosen by `kid` from the client's JWKS
 * (`jwk`/`jku` headers are never used), no `crit` extensions, issuer pinned, `exp`/`sid`/`iat`
 * required. jose fetches, caches and selects the keys; the signature itself is checked with
 * synchronous node:crypto, ~3x faster per request than jose's WebCrypto path. Expiry is
 * judged after the signature, so an expired token still yields a trustworthy `org_id`.
 */
@Injectable()
export class AccessTokenVerifier {
  private readonly jwks: ReturnType<typeof createRemoteJWKSet>;
  private readonly keyObjects = new WeakMap<object, KeyObject>();

  constructor(@Inject(AUTHKIT_CONFIG) private readonly config: AuthKitConfig) {
    // jose refetches on an unknown kid at most once per cooldown: no fetch storm.
    this.jwks = createRemoteJWKSet(new URL(config.jwksUrl), {
      cooldownDuration: 30_000,
      cacheMaxAge: 10 * 60_000,
      timeoutDuration: config.requestTimeoutMs,
    });
  }

  async verify(token: string, nowSeconds = Date.now() / 1000): Promise<TokenCheck> {
    if (token.length > MAX_BEARER_BYTES) return invalid('token too large');
    const segments = token.split('.');
    if (segments.length !== 3 || !segments.every((segment) => B64URL.test(segment))) {
      return invalid('not a compact JWS');
    }
    const [encodedHeader, encodedPayload, encodedSignature] = segments as [string, string, string];
    let header: JWSHeaderParameters;
    try {
      header = JSON.parse(
        Buffer.from(encodedHeader, 'base64url').toString('utf8'),
      ) as JWSHeaderParameters;
    } catch {
      return invalid('header is not JSON');
    }
    if (typeof header !== 'object' || header === null) return invalid('header is not an object');
    if (header.alg !== 'RS256') return invalid('alg not allowed');
    if (header.crit !== undefined || header.b64 !== undefined) return invalid('crit not supported');
    if (header.kid !== undefined && typeof header.kid !== 'string') return invalid('bad kid');

    let key: KeyObject;
    try {
      key = this.keyObject(await this.jwks({ alg: 'RS256', kid: header.kid }));
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      if (typeof code === 'string' && KEY_ERRORS.has(code)) return invalid(code);
      return { status: 'unavailable', detail: 'JWKS fetch failed' };
    }
    const signed = verifySignature(
      'RSA-SHA256',
      Buffer.from(`${encodedHeader}.${encodedPayload}`),
      key,
      Buffer.from(encodedSignature, 'base64url'),
    );
    if (!signed) return invalid('signature does not verify');
    return checkClaims(
      Buffer.from(encodedPayload, 'base64url'),
      this.config.issuers,
      nowSeconds,
      this.config.clockToleranceSeconds,
    );
  }

  private keyObject(key: Parameters<typeof KeyObject.from>[0]): KeyObject {
    let keyObject = this.keyObjects.get(key);
    if (!keyObject) {
      keyObject = KeyObject.from(key);
      this.keyObjects.set(key, keyObject);
    }
    return keyObject;
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
