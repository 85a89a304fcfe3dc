import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import type { JWSHeaderParameters } from 'jose';
import { verify as verifySignature, type KeyObject } from 'node:crypto';
import { AUTHKIT_CONFIG, MAX_BEARER_BYTES } from '../authkit.constants.js';
import type { AuthKitConfig } from '../authkit.options.js';
import { JwksKeySet } from './jwks.key-set.js';
import type { AccessTokenClaims } from './session.types.js';

export type TokenCheck =
  | { status: 'valid'; claims: AccessTokenClaims }
  /**
   * Genuine (signature, issuer, shape all good) but past `exp` (no tolerance): worth a refresh.
   * Whether a little skew is forgiven (Bearer, WebSocket) is the caller's call, from `claims.exp`.
   */
  | { status: 'expired'; claims: AccessTokenClaims }
  | { status: 'invalid'; detail: string }
  /** No usable JWKS (unreachable, empty, unusable): says nothing about the token. */
  | { status: 'unavailable'; detail: string };

const B64URL = /^[A-Za-z0-9_-]+$/;
/** One decoder for every token: a TextDecoder per call was measurable garbage per request. */
const UTF8 = new TextDecoder();

/**
 * Verifies AuthKit access tokens: RS256 only, the key chosen by `kid` from the client's JWKS
 * (`jwk`/`jku` headers are never used), no `crit` extensions, issuer pinned, `exp`/`sid`/`iat`
 * required. `JwksKeySet` holds the keys (the last good set survives failed or empty answers);
 * the signature itself is checked with node:crypto, ~3x less CPU per request than jose's
 * WebCrypto path, on the threadpool unless `tokens.verifyOnThreadPool` is false. Expiry is judged
 * after the signature, so an expired token still yields a trustworthy `org_id`.
 */
@Injectable()
export class AccessTokenVerifier implements OnModuleDestroy {
  private readonly keys: JwksKeySet;

  constructor(@Inject(AUTHKIT_CONFIG) private readonly config: AuthKitConfig) {
    this.keys = new JwksKeySet(config.jwksUrl, config.requestTimeoutMs);
  }

  /** The signing keys, for health checks (`nestjs-authkit/terminus`). */
  get keySet(): JwksKeySet {
    return this.keys;
  }

  onModuleDestroy(): void {
    this.keys.close();
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

    // A known kid is a synchronous Map lookup; only a miss may wait for a (shared) fetch.
    let key = this.keys.find(header.kid);
    if (!key) {
      const lookup = await this.keys.lookup(header.kid);
      if (lookup.status === 'unknown') return invalid('no key for this kid in the JWKS');
      if (lookup.status === 'unavailable') {
        return { status: 'unavailable', detail: 'no usable JWKS: fetch failed or found no key' };
      }
      key = lookup.key;
    }
    // The segments are base64url (checked above), so latin1 is their exact byte encoding.
    const signingInput = Buffer.from(
      token.slice(0, encodedHeader.length + encodedPayload.length + 1),
      'latin1',
    );
    const signature = Buffer.from(encodedSignature, 'base64url');
    const signed = this.config.verifyOnThreadPool
      ? await verifyInThreadPool(signingInput, key, signature)
      : verifySignature('RSA-SHA256', signingInput, key, signature);
    if (!signed) return invalid('signature does not verify');
    return checkClaims(
      Buffer.from(encodedPayload, 'base64url'),
      this.config.issuers,
      nowSeconds,
      this.config.clockToleranceSeconds,
    );
  }
}

/** `crypto.verify` with a callback: the RSA work runs on libuv's threadpool. */
function verifyInThreadPool(data: Buffer, key: KeyObject, signature: Buffer): Promise<boolean> {
  return new Promise((resolve) => {
    verifySignature('RSA-SHA256', data, key, signature, (error, valid) => resolve(!error && valid));
  });
}

/**
 * Claim rules applied after the signature holds. `tolerance` forgives an `iat`/`nbf` a little in
 * the future; `exp` is judged as is. Exported for unit tests.
 */
export function checkClaims(
  payload: Uint8Array,
  issuers: readonly string[],
  now: number,
  tolerance: number,
): TokenCheck {
  let claims: unknown;
  try {
    claims = JSON.parse(UTF8.decode(payload));
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
  return c.exp <= now
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
