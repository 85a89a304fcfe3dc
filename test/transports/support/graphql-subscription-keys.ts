/**
 * WorkOS API keys on graphql-ws subscriptions (issue 13), for every driver: the key arrives in
 * `connectionParams`, is accepted only by subscriptions under `@AllowApiKeys()`, never stays
 * with the connection for the next operation, and never reaches a log line or an audit record.
 */
import { Resolver, Subscription } from '@nestjs/graphql';
import {
  AllowApiKeys,
  CurrentSession,
  RequirePermission,
  type AuthKitSession,
  type SessionService,
} from '../../../lib/index.js';
import type { ApolloDriverConfig } from '@nestjs/apollo';
import { AuditCapture } from './audit-capture.js';
import { ALICE, ORG_B } from './behaviour-table.js';
import type { GraphQLDriverName } from './graphql-app.js';
import { keyValue, LogCapture, revokeKey } from './key-checks.js';
import {
  Channel,
  operation,
  Tick,
  Ticker,
  TICKS,
  useSubscriptionApp,
  type Delivery,
} from './graphql-subscriptions.js';

/** The keyed subscription: who answered, and with which kind of credential. */
export const KEYED_TICKS = 'subscription { keyedTicks { n source userId organizationId } }';

@Resolver()
export class KeyedTickResolver {
  constructor(private readonly ticker: Ticker) {}

  @Subscription(() => Tick, { resolve: (tick: Tick) => tick })
  @AllowApiKeys()
  @RequirePermission('reports:read')
  keyedTicks(@CurrentSession() session: AuthKitSession): Channel {
    return this.ticker.subscribe(session);
  }
}

/** How a subscription's first delivery was refused: GraphQL errors (a `next`) or an `error`. */
function refusal(delivery: Delivery): Record<string, unknown> | undefined {
  if (typeof delivery !== 'object') return undefined;
  if ('error' in delivery) {
    const errors = delivery.error as Array<{ extensions?: Record<string, unknown> }> | undefined;
    return Array.isArray(errors) ? errors[0]?.extensions : undefined;
  }
  return delivery.errors?.[0]?.extensions;
}

export interface SubscriptionKeyOptions {
  driver: GraphQLDriverName;
  /** Apollo only: graphql-ws options built with the app's SessionService (`onConnect`). */
  subscriptions?: (sessions: SessionService) => ApolloDriverConfig['subscriptions'];
  /** The connectionParams shapes this driver reads a key from. */
  shapes: Array<(key: string) => Record<string, unknown>>;
}

export function describeSubscriptionKeys(title: string, options: SubscriptionKeyOptions): void {
  describe(title, () => {
    const audit = new AuditCapture();
    const logs = new LogCapture();
    const t = useSubscriptionApp({
      driver: options.driver,
      resolvers: [KeyedTickResolver],
      authkit: { audit },
      logger: logs,
      ...(options.driver === 'mercurius'
        ? { mercurius: { subscription: true } }
        : { subscriptions: options.subscriptions ?? (() => ({ 'graphql-ws': true })) }),
    });
    const permission = { check: 'permission', claim: 'permissions', required: ['reports:read'] };
    const keyWith = (permissions: string[]) => t.world.apiKey(permissions);

    beforeEach(() => void audit.take());

    it('a key with the permission, in each connectionParams shape: events as the key, audited by its id, the key in no log or audit record', async () => {
      for (const shape of options.shapes) {
        const key = keyWith(['reports:read']);
        const value = keyValue(key.credential);
        const sub = t.open({ kind: 'none' }, shape(value), KEYED_TICKS);
        expect(await sub.next()).toEqual({
          data: {
            keyedTicks: { n: 0, source: 'api-key', userId: key.id, organizationId: ORG_B },
          },
        });
        const records = audit.take();
        expect(records.filter((r) => r.event === 'access_decision')).toEqual([
          expect.objectContaining({ allowed: true, ...permission, user: key.id, sid: key.id }),
        ]);
        expect(JSON.stringify(records)).not.toContain(value);
        expect(logs.containing(value)).toEqual([]);
      }
    });

    it('a key without the permission: FORBIDDEN / PERMISSION_DENIED', async () => {
      const sub = t.open(keyWith([]).credential, undefined, KEYED_TICKS);
      expect(refusal(await sub.next())).toMatchObject({
        code: 'FORBIDDEN',
        reason: 'PERMISSION_DENIED',
      });
    });

    it('a key revoked at WorkOS: UNAUTHENTICATED / INVALID_API_KEY, nothing audited', async () => {
      const key = keyWith(['reports:read']);
      t.world.emulator.revokeApiKey(key.id);
      const sub = t.open(key.credential, undefined, KEYED_TICKS);
      expect(refusal(await sub.next())).toMatchObject({
        code: 'UNAUTHENTICATED',
        reason: 'INVALID_API_KEY',
      });
      expect(audit.take()).toEqual([]);
    });

    it('a valid key on a subscription without @AllowApiKeys: UNAUTHENTICATED / INVALID_JWT, never validated', async () => {
      const key = keyWith(['reports:read']);
      const before = t.world.emulator.calls.apiKeyValidations;
      const sub = t.open(key.credential);
      expect(refusal(await sub.next())).toMatchObject({
        code: 'UNAUTHENTICATED',
        reason: 'INVALID_JWT',
      });
      expect(t.world.emulator.calls.apiKeyValidations).toBe(before);
    });

    it('accepted by a keyed subscription, the key does not carry over to the next one on the same connection', async () => {
      const key = keyWith(['reports:read']);
      const keyed = t.open(key.credential, undefined, KEYED_TICKS);
      expect(await keyed.next()).toMatchObject({ data: { keyedTicks: { source: 'api-key' } } });
      const gated = operation(keyed.client, TICKS);
      expect(refusal(await gated.next())).toMatchObject({
        code: 'UNAUTHENTICATED',
        reason: 'INVALID_JWT',
      });
    });

    it('revoked while its connection is open (the api_key.revoked webhook): the next keyed subscription on it is refused INVALID_API_KEY', async () => {
      const key = keyWith(['reports:read']);
      const first = t.open(key.credential, undefined, KEYED_TICKS);
      expect(await first.next()).toMatchObject({ data: { keyedTicks: { userId: key.id } } });
      revokeKey(t.world, t.app.app, key.id);
      const second = operation(first.client, KEYED_TICKS);
      expect(refusal(await second.next())).toMatchObject({
        code: 'UNAUTHENTICATED',
        reason: 'INVALID_API_KEY',
      });
    });

    it('a session beside it still works on its own connection, and nothing was refreshed or crashed', async () => {
      const before = t.world.emulator.calls.refresh;
      const sub = t.open(await t.world.bearer(ORG_B), undefined, KEYED_TICKS);
      expect(await sub.next()).toEqual({
        data: { keyedTicks: { n: 0, source: 'bearer', userId: ALICE, organizationId: ORG_B } },
      });
      expect(t.world.emulator.calls.refresh).toBe(before);
      expect(t.errors).toEqual([]);
    });
  });
}
