import type { JWK } from 'jose';
import { json } from './http.js';
import type { Route } from './route-table.js';

/** What the JWKS route needs: the client it serves keys for and the current signing key. */
export interface JwksContext {
  clientId: string;
  /** The current public key (`rotateKeys()` replaces it). */
  jwk(): JWK;
}

/**
 * `GET /sso/jwks/:clientId`: the current key only, so tokens signed before a rotation stop
 * verifying. Any method and any client under the prefix count as `jwks` calls (and faults);
 * the path is compared as sent, undecoded, so only the exact client id finds the keys.
 *
 * @example
 * bindRoutes(jwksRoutes, { clientId: 'client_emulator', jwk: () => signingKey.jwk });
 */
export const jwksRoutes: readonly Route<JwksContext, 'jwks'>[] = [
  {
    method: '*',
    path: /^\/sso\/jwks\//,
    fault: 'jwks',
    handler: ({ res, url }, { clientId, jwk }) =>
      url.pathname === `/sso/jwks/${clientId}`
        ? json(res, 200, { keys: [jwk()] })
        : json(res, 404, { message: 'Not found' }),
  },
];
