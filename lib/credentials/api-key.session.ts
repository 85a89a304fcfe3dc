import { header, type AuthKitCarrier } from '../context/carrier.js';
import type { AuthKitSession, SessionResolution } from '../session/session.types.js';
import { API_KEY_SHAPE, type ApiKeyCheck, type ApiKeyPrincipal } from './api-key.validator.js';

const BEARER = /^Bearer +(\S+) *$/i;

/** The API key a request presents (a Bearer value shaped like a key, not a JWT), if any. */
export function presentedApiKey(carrier: AuthKitCarrier): string | undefined {
  const authorization = header(carrier.req, 'authorization');
  const value = authorization === undefined ? carrier.token : BEARER.exec(authorization)?.[1];
  return value !== undefined && API_KEY_SHAPE.test(value) ? value : undefined;
}

/**
 * A validation's answer as a session resolution: the key's principal, or its refusal
 * (`INVALID_API_KEY` 401, `API_KEY_UNAVAILABLE` 503).
 *
 * @example
 * ```ts
 * const resolution = apiKeyResolution(await validator.validate(value), Date.now() / 1000);
 * ```
 */
export function apiKeyResolution(check: ApiKeyCheck, nowSeconds: number): SessionResolution {
  if (check.ok) {
    return { ok: true, session: apiKeySession(check.principal, nowSeconds), refreshed: false };
  }
  const { reason, status, detail } = check;
  return { ok: false, failure: { reason, status, detail, source: 'bearer' } };
}

/**
 * An API key's principal in the shape decorators check: its organization, its permissions,
 * no roles, entitlements or flags (a key carries none). `userId` is the owner for a user's
 * key, else the key's own id; `sessionId` is the key's id. No token: `accessToken` is empty.
 */
export function apiKeySession(principal: ApiKeyPrincipal, nowSeconds: number): AuthKitSession {
  const subject = principal.userId ?? principal.id;
  return {
    source: 'api-key',
    userId: subject,
    sessionId: principal.id,
    organizationId: principal.organizationId,
    roles: [],
    permissions: [...principal.permissions],
    entitlements: [],
    featureFlags: [],
    apiKey: { id: principal.id, name: principal.name },
    claims: {
      iss: 'workos-api-key',
      sub: subject,
      sid: principal.id,
      iat: Math.floor(nowSeconds),
      exp: Math.floor(nowSeconds) + 60,
      org_id: principal.organizationId,
      permissions: [...principal.permissions],
    },
    accessToken: '',
  };
}
