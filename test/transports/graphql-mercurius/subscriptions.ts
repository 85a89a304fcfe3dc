/**
 * Mercurius subscriptions (`subscription: true`, graphql-transport-ws) under `@RequireFlag`.
 * Mercurius hands the subscription's resolvers its upgrade request (with the connection_init
 * payload copied into its headers) and a stand-in `reply`, never the socket: the session is
 * read per subscription, and a connection is not closed when its token expires (the package
 * cannot reach Mercurius' socket).
 */
import type { Client } from 'graphql-ws';
import {
  ALICE,
  ORG_A,
  ORG_B,
  startWorld,
  watchProcess,
  type Credential,
  type World,
} from '../support/behaviour-table.js';
import { startGraphQLApp, type GraphQLApp } from '../support/graphql-app.js';
import { subscribe, Ticker, TickResolver } from '../support/graphql-subscriptions.js';

export function describeSubscriptions(): void {
  describe('graphql-transport-ws subscriptions (mercurius)', () => {
    let world: World;
    let app: GraphQLApp;
    let watcher: ReturnType<typeof watchProcess>;
    const clients: Client[] = [];
    const open = (credential: Credential, connectionParams?: Record<string, unknown>) => {
      const observed = subscribe(app, credential, connectionParams);
      clients.push(observed.client);
      return observed;
    };

    beforeAll(async () => {
      watcher = watchProcess();
      world = await startWorld();
      app = await startGraphQLApp({
        driver: 'mercurius',
        emulator: world.emulator,
        resolvers: [TickResolver],
        providers: [Ticker],
        mercurius: { subscription: true },
      });
    });
    afterAll(async () => {
      await Promise.all(clients.map((client) => client.dispose()));
      await app.close();
      await world.emulator.close();
      watcher.stop();
    });

    it('cookie on the upgrade request, flag on: events are delivered with the session', async () => {
      const sub = open(await world.cookie(ORG_B));
      expect(await sub.next()).toEqual({
        data: { ticks: { n: 0, userId: ALICE, organizationId: ORG_B } },
      });
      app.app.get(Ticker).publish(1);
      expect(await sub.next()).toEqual({
        data: { ticks: { n: 1, userId: ALICE, organizationId: ORG_B } },
      });
    });

    it('Bearer as connectionParams `authorization` (Mercurius copies it into the headers): events are delivered', async () => {
      const sub = open(await world.bearer(ORG_B));
      expect(await sub.next()).toEqual({
        data: { ticks: { n: 0, userId: ALICE, organizationId: ORG_B } },
      });
    });

    it('flag off: the subscription errors FORBIDDEN / FLAG_DISABLED', async () => {
      const sub = open(await world.cookie(ORG_A));
      expect(await sub.next()).toMatchObject({
        error: [{ extensions: { code: 'FORBIDDEN', reason: 'FLAG_DISABLED' } }],
      });
    });

    it('no session: the subscription errors UNAUTHENTICATED / NO_SESSION', async () => {
      const sub = open({ kind: 'none' });
      expect(await sub.next()).toMatchObject({
        error: [{ extensions: { code: 'UNAUTHENTICATED', reason: 'NO_SESSION' } }],
      });
    });

    it("expired cookie: refused EXPIRED_JWT; Mercurius' stand-in reply is no HTTP response, so no refresh token is spent", async () => {
      const before = world.emulator.calls.refresh;
      const sub = open(await world.cookie(ORG_B, -120));
      expect(await sub.next()).toMatchObject({
        error: [{ extensions: { code: 'UNAUTHENTICATED', reason: 'EXPIRED_JWT' } }],
      });
      expect(world.emulator.calls.refresh).toBe(before);
      expect(watcher.errors).toEqual([]);
    });
  });
}
