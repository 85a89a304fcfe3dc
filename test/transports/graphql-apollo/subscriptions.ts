/**
 * graphql-ws subscriptions on Nest's Apollo driver: the handshake is authenticated in
 * `onConnect` with `SessionService.authenticateConnection(context)`, `@RequireFlag` guards the
 * subscription, and the connection lives only as long as its session.
 */
import { FlagService } from '../../../lib/index.js';
import { COOKIE_PASSWORD } from '../../e2e/support/app.fixture.js';
import { ALICE, ORG_A, ORG_B } from '../support/behaviour-table.js';
import { Ticker, useSubscriptionApp } from '../support/graphql-subscriptions.js';

export function describeSubscriptions(): void {
  describe('graphql-ws subscriptions (apollo)', () => {
    const t = useSubscriptionApp({
      driver: 'apollo',
      // A connection ends at exp + this tolerance (when HTTP stops accepting the token too).
      authkit: { tokens: { clockToleranceSeconds: 1 } },
      subscriptions: (sessions) => ({
        'graphql-ws': {
          // Refused: the connection is already closed (4401/4503); `false` keeps graphql-ws from
          // acknowledging it.
          onConnect: async (context) => (await sessions.authenticateConnection(context)).ok,
        },
      }),
    });

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

    it('Bearer in connectionParams, as `authorization` or `token`: events are delivered', async () => {
      const bearer = await t.world.bearer(ORG_B);
      const token = bearer.kind === 'bearer' ? bearer.value : '';
      const byHeader = t.open(bearer);
      const byToken = t.open({ kind: 'none' }, { token });
      for (const sub of [byHeader, byToken]) {
        expect(await sub.next()).toEqual({
          data: { ticks: { n: 0, userId: ALICE, organizationId: ORG_B } },
        });
      }
    });

    it('flag off: the subscription answers FORBIDDEN / FLAG_DISABLED and completes; the server does not drop the connection', async () => {
      const sub = t.open(await t.world.cookie(ORG_A));
      const result = await sub.next();
      expect(result).toMatchObject({
        errors: [{ extensions: { code: 'FORBIDDEN', reason: 'FLAG_DISABLED' } }],
      });
      expect(await sub.next()).toBe('complete');
      // The (lazy) client closes its idle socket normally; a refused session would be 4401.
      expect((await sub.closed).code).toBe(1000);
    });

    it('no session: the handshake is refused with close code 4401 NO_SESSION', async () => {
      const subscribers = t.app.app.get(Ticker).subscribers;
      const sub = t.open({ kind: 'none' });
      expect(await sub.closed).toEqual({ code: 4401, reason: 'NO_SESSION' });
      expect(await sub.next()).toMatchObject({ error: { code: 4401, reason: 'NO_SESSION' } });
      expect(t.app.app.get(Ticker).subscribers).toBe(subscribers);
    });

    it('expired cookie at the handshake: refused 4401 EXPIRED_JWT, the refresh token is not spent', async () => {
      const before = t.world.emulator.calls.refresh;
      const sub = t.open(await t.world.cookie(ORG_B, -120));
      expect(await sub.closed).toEqual({ code: 4401, reason: 'EXPIRED_JWT' });
      expect(t.world.emulator.calls.refresh).toBe(before);
    });

    it('a token that expires while the connection is open: closed with 4401 EXPIRED_JWT', async () => {
      const sub = t.open(await t.world.bearer(ORG_B, 2));
      expect(await sub.next()).toMatchObject({ data: { ticks: { n: 0 } } });
      const startedAt = Date.now();
      expect(await sub.closed).toEqual({ code: 4401, reason: 'EXPIRED_JWT' });
      // 2 s of token life + 1 s of tolerance, not the 30 s default.
      expect(Date.now() - startedAt).toBeLessThan(3500);
    });

    // Last: the flag-change watermark makes every earlier token stale for this t.app.
    it('FlagService.invalidate() closes open connections whose token predates it: 4401 STALE_CLAIMS', async () => {
      const session = await t.world.emulator.createSession({
        userId: ALICE,
        organizationId: ORG_B,
        issuedSecondsAgo: 5,
      });
      const sub = t.open({
        kind: 'cookie',
        value: t.world.emulator.sealSession(session, COOKIE_PASSWORD),
      });
      expect(await sub.next()).toMatchObject({ data: { ticks: { n: 0 } } });
      t.app.app.get(FlagService).invalidate('test');
      expect(await sub.closed).toEqual({ code: 4401, reason: 'STALE_CLAIMS' });
      expect(t.errors).toEqual([]);
    });
  });
}
