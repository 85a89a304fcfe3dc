/**
 * API keys at the graphql-ws handshake on Nest's Apollo driver: `onConnect` with
 * `SessionService.authenticateConnection`. A key is refused there unless the app says
 * `{ apiKeys: true }`; then it opens the connection, and serves `@AllowApiKeys()` subscriptions
 * only.
 */
import { ALICE, ORG_B } from '../support/behaviour-table.js';
import { KEYED_TICKS, KeyedTickResolver } from '../support/graphql-subscription-keys.js';
import { operation, TICKS, useSubscriptionApp } from '../support/graphql-subscriptions.js';
import { keyValue, LogCapture, revokeKey } from '../support/key-checks.js';

export function describeHandshakeKeys(): void {
  describe('API keys at the graphql-ws handshake (apollo onConnect), not accepted there', () => {
    const t = useSubscriptionApp({
      driver: 'apollo',
      resolvers: [KeyedTickResolver],
      subscriptions: (sessions) => ({
        'graphql-ws': {
          onConnect: async (context) => (await sessions.authenticateConnection(context)).ok,
        },
      }),
    });

    it('a valid key: closed 4401 INVALID_JWT, never validated', async () => {
      const key = t.world.apiKey(['reports:read']);
      const before = t.world.emulator.calls.apiKeyValidations;
      const sub = t.open(key.credential, undefined, KEYED_TICKS);
      expect(await sub.closed).toEqual({ code: 4401, reason: 'INVALID_JWT' });
      expect(t.world.emulator.calls.apiKeyValidations).toBe(before);
    });
  });

  describe('API keys at the graphql-ws handshake (apollo onConnect), { apiKeys: true }', () => {
    const logs = new LogCapture();
    const t = useSubscriptionApp({
      driver: 'apollo',
      resolvers: [KeyedTickResolver],
      logger: logs,
      subscriptions: (sessions) => ({
        'graphql-ws': {
          onConnect: async (context) =>
            (await sessions.authenticateConnection(context, { apiKeys: true })).ok,
        },
      }),
    });

    it('a valid key opens the connection: the keyed subscription answers as the key, one without @AllowApiKeys on it is refused INVALID_JWT', async () => {
      const key = t.world.apiKey(['reports:read']);
      const keyed = t.open(key.credential, undefined, KEYED_TICKS);
      expect(await keyed.next()).toEqual({
        data: { keyedTicks: { n: 0, source: 'api-key', userId: key.id, organizationId: ORG_B } },
      });
      const gated = operation(keyed.client, TICKS);
      expect(await gated.next()).toMatchObject({
        errors: [{ extensions: { code: 'UNAUTHENTICATED', reason: 'INVALID_JWT' } }],
      });
      expect(logs.containing(keyValue(key.credential))).toEqual([]);
    });

    it('a revoked key: closed 4401 INVALID_API_KEY at the handshake', async () => {
      const key = t.world.apiKey(['reports:read']);
      t.world.emulator.revokeApiKey(key.id);
      const sub = t.open(key.credential, { token: keyValue(key.credential) }, KEYED_TICKS);
      expect(await sub.closed).toEqual({ code: 4401, reason: 'INVALID_API_KEY' });
    });

    it('revoked after the handshake (api_key.revoked): the next keyed subscription is refused INVALID_API_KEY', async () => {
      const key = t.world.apiKey(['reports:read']);
      const first = t.open(key.credential, undefined, KEYED_TICKS);
      expect(await first.next()).toMatchObject({ data: { keyedTicks: { userId: key.id } } });
      revokeKey(t.world, t.app.app, key.id);
      const second = operation(first.client, KEYED_TICKS);
      expect(await second.next()).toMatchObject({
        errors: [{ extensions: { code: 'UNAUTHENTICATED', reason: 'INVALID_API_KEY' } }],
      });
    });

    it('sessions are as before: a cookie opens the connection, no key is validated for it', async () => {
      const before = t.world.emulator.calls.apiKeyValidations;
      const sub = t.open(await t.world.cookie(ORG_B), undefined, KEYED_TICKS);
      expect(await sub.next()).toEqual({
        data: { keyedTicks: { n: 0, source: 'cookie', userId: ALICE, organizationId: ORG_B } },
      });
      expect(t.world.emulator.calls.apiKeyValidations).toBe(before);
      expect(t.errors).toEqual([]);
    });
  });
}
