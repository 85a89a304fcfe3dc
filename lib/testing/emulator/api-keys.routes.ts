import { apiKeyData, type ApiKeyRegistry } from './api-keys.js';
import { json } from './http.js';
import type { Route } from './route-table.js';

/** What the API key routes need: validation against the live keys, and revocation. */
export interface ApiKeysContext {
  keys: Pick<ApiKeyRegistry, 'validate'>;
  /** Revokes as `WorkOSEmulator.revokeApiKey()` does (event included); false when unknown. */
  revokeApiKey(id: string): boolean;
}

/**
 * `POST /api_keys/validations` (the SDK's `apiKeys.createValidation`) and
 * `DELETE /api_keys/:id`, both with the emulator's API key.
 *
 * @example
 * bindRoutes(apiKeysRoutes, { keys: registry, revokeApiKey: (id) => emulator.revokeApiKey(id) });
 */
export const apiKeysRoutes: readonly Route<ApiKeysContext, 'api-key-validations'>[] = [
  {
    method: 'POST',
    path: '/api_keys/validations',
    apiKey: true,
    fault: 'api-key-validations',
    handler: ({ res, body }, { keys }) => {
      if (typeof body.value !== 'string' || body.value === '') {
        return json(res, 422, { message: 'value is required' });
      }
      // An unknown or revoked key is not an error in WorkOS: 200 with `api_key: null`.
      const key = keys.validate(body.value);
      return json(res, 200, { api_key: key ? apiKeyData(key) : null });
    },
  },
  {
    method: 'DELETE',
    path: /^\/api_keys\/(?<id>[^/]+)$/,
    apiKey: true,
    handler: ({ res, params }, { revokeApiKey }) => {
      if (!revokeApiKey(params.id!)) return json(res, 404, { message: 'Not found' });
      res.writeHead(204).end();
    },
  },
];
