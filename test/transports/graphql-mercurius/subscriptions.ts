/**
 * Mercurius subscriptions (`subscription: true`, graphql-transport-ws) under `@RequireFlag`.
 * Mercurius hands the subscription's resolvers its upgrade request (with the connection_init
 * payload copied into its headers) and a stand-in `reply`, never the socket: the session is
 * read per subscription, and a connection is not closed when its token expires (the package
 * cannot reach Mercurius' socket).
 */
import { ALICE, ORG_A, ORG_B } from '../support/behaviour-table.js';
import { Ticker, useSubscriptionApp } from '../support/graphql-subscriptions.js';

export function describeSubscriptions(): void {
  describe('graphql-transport-ws subscriptions (mercurius)', () => {
    const t = useSubscriptionApp({ driver: 'mercurius', mercurius: { subscription: true } });

    it('cookie on the upgrade request, flag on: events are delivered with the session', async () => {
      const sub = t.open(await t.world.cookie(ORG_B));
      expect(await sub.next()).toEqual({
        data: { ticks: { n: 0, userId: ALICE, organizationId: ORG_B } },
      });
      t.app.app.get(Ticker).publish(1);
      expect(await sub.next()).toEqual({
        data: { ticks: { n: 1, userId: ALICE, organizationId: ORG_B } },
      });
    });

    it('Bearer as connectionParams `authorization` (Mercurius copies it into the headers): events are delivered', async () => {
      const sub = t.open(await t.world.bearer(ORG_B));
      expect(await sub.next()).toEqual({
        data: { ticks: { n: 0, userId: ALICE, organizationId: ORG_B } },
      });
    });

    it('flag off: the subscription errors FORBIDDEN / FLAG_DISABLED', async () => {
      const sub = t.open(await t.world.cookie(ORG_A));
      expect(await sub.next()).toMatchObject({
        error: [{ extensions: { code: 'FORBIDDEN', reason: 'FLAG_DISABLED' } }],
      });
    });

    it('no session: the subscription errors UNAUTHENTICATED / NO_SESSION', async () => {
      const sub = t.open({ kind: 'none' });
      expect(await sub.next()).toMatchObject({
        error: [{ extensions: { code: 'UNAUTHENTICATED', reason: 'NO_SESSION' } }],
      });
    });

    it("expired cookie: refused EXPIRED_JWT; Mercurius' stand-in reply is no HTTP response, so no refresh token is spent", async () => {
      const before = t.world.emulator.calls.refresh;
      const sub = t.open(await t.world.cookie(ORG_B, -120));
      expect(await sub.next()).toMatchObject({
        error: [{ extensions: { code: 'UNAUTHENTICATED', reason: 'EXPIRED_JWT' } }],
      });
      expect(t.world.emulator.calls.refresh).toBe(before);
      expect(t.errors).toEqual([]);
    });
  });
}
