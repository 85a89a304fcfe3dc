/**
 * A WebSocket connection's life with its session, on socket.io and `ws`: refused at the
 * handshake, ended when its token expires, its claims go stale or it is signed out, never a
 * refresh token spent, one resolution per connection. And `globalGuard: true` on gateways.
 */
import { jest } from '@jest/globals';
import { Controller, Get } from '@nestjs/common';
import { SubscribeMessage, WebSocketGateway } from '@nestjs/websockets';
import request from 'supertest';
import {
  CLOSE_CODES,
  CurrentSession,
  FlagService,
  Public,
  RequireFlag,
  type AuthKitSession,
} from '../../../lib/index.js';
import { AccessTokenVerifier } from '../../../lib/session/access-token.verifier.js';
import { ConnectionSessions } from '../../../lib/session/connection-sessions.js';
import { sessionCookieFrom } from '../../e2e/support/app.fixture.js';
import {
  ALICE,
  COOKIE_PASSWORD,
  ORG_A,
  ORG_B,
  startWorld,
  watchProcess,
  type Credential,
  type World,
} from './behaviour-table.js';
import {
  connect,
  LifetimeController,
  lifetimeGateway,
  startWsApp,
  type Closed,
  type Reauthenticate,
  type TestClient,
  type WsApp,
  type WsKind,
} from './ws-app.js';

/** The verifier's allowance for clock skew in these apps: a token is good until `exp` + this. */
const TOLERANCE = 1;

/** Clients opened by a test, closed after it. */
function clientPool(kind: WsKind, url: () => string) {
  const open: TestClient[] = [];
  return {
    connect(credential: Credential): TestClient {
      const client = connect(kind, url(), credential);
      open.push(client);
      return client;
    },
    async closeAll() {
      await Promise.all(open.splice(0).map((client) => client.close()));
    },
  };
}

/** The server's end of a connection, as the client saw it: the event, then the close. */
async function endOf(client: TestClient): Promise<{ reauth: Reauthenticate; closed: Closed }> {
  const reauth = await client.reauthenticated;
  return { reauth, closed: await client.closed };
}

/**
 * A connection refused at its handshake. Fails fast (instead of timing out) when the
 * connection answers a message instead.
 */
async function refusedAtHandshake(
  client: TestClient,
): Promise<{ reauth: Reauthenticate; closed: Closed }> {
  const answered = client.ask('whoami').then((outcome) => {
    if (outcome.ok) throw new Error(`the connection was let in: ${JSON.stringify(outcome)}`);
    return new Promise<never>(() => undefined);
  });
  return Promise.race([endOf(client), answered]);
}

function expectClose(kind: WsKind, closed: Closed, code: number, reason: string): void {
  if (kind === 'ws') expect(closed).toMatchObject({ code, reason });
  else expect(closed.reason).toBe('io server disconnect');
}

function cookieOf(world: World, session: { accessToken: string; refreshToken: string }) {
  return {
    kind: 'cookie',
    value: world.emulator.sealSession(
      session as Parameters<World['emulator']['sealSession']>[0],
      COOKIE_PASSWORD,
    ),
  } as const;
}

function expOf(accessToken: string): number {
  const payload = accessToken.split('.')[1] ?? '';
  return (JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { exp: number }).exp;
}

export function describeConnectionLifetime(kind: WsKind): void {
  describe(`connection lifetime on ${kind}`, () => {
    let world: World;
    let server: WsApp;
    let watcher: ReturnType<typeof watchProcess>;
    const clients = clientPool(kind, () => server.url);
    const http = () => request(server.app.getHttpServer());

    beforeAll(async () => {
      watcher = watchProcess();
      world = await startWorld();
      server = await startWsApp(kind, world.emulator, {
        gateway: lifetimeGateway(kind),
        controllers: [LifetimeController],
        // The documented way alone: handleConnection hands the request over.
        upgradeRequests: false,
        options: { tokens: { clockToleranceSeconds: TOLERANCE } },
      });
    });
    afterEach(() => clients.closeAll());
    afterAll(async () => {
      await server.close();
      await world.emulator.close();
      watcher.stop();
      expect(watcher.errors).toEqual([]);
    });

    it('a handshake without a session: authkit:reauthenticate NO_SESSION, then closed 4401', async () => {
      const { reauth, closed } = await refusedAtHandshake(clients.connect({ kind: 'none' }));
      expect(reauth).toEqual({
        reason: 'NO_SESSION',
        code: CLOSE_CODES.reauthenticate,
        message: expect.any(String),
      });
      expectClose(kind, closed, 4401, 'NO_SESSION');
    });

    it('an expired cookie at the handshake: EXPIRED_JWT, closed, the refresh token never spent', async () => {
      const before = world.emulator.calls.refresh;
      const { reauth, closed } = await refusedAtHandshake(
        clients.connect(await world.cookie(ORG_B, -120)),
      );
      expect(reauth).toMatchObject({ reason: 'EXPIRED_JWT', code: 4401 });
      expectClose(kind, closed, 4401, 'EXPIRED_JWT');
      expect(world.emulator.calls.refresh).toBe(before);
    });

    it('a token that expires while open: answered until exp + tolerance, then EXPIRED_JWT and 4401; HTTP refreshes it, the new cookie reconnects', async () => {
      const session = await world.emulator.createSession({
        userId: ALICE,
        organizationId: ORG_B,
        accessTokenExpiresIn: 1,
      });
      const exp = expOf(session.accessToken);
      const cookie = cookieOf(world, session);
      const client = clients.connect(cookie);
      expect(await client.ask('whoami')).toEqual({ ok: true, data: { userId: ALICE } });
      const refreshes = world.emulator.calls.refresh;

      const { reauth, closed } = await endOf(client);
      expect(reauth).toMatchObject({ reason: 'EXPIRED_JWT', code: 4401 });
      expectClose(kind, closed, 4401, 'EXPIRED_JWT');
      // Not before HTTP stops accepting the token too: then a page load refreshes it.
      expect(closed.at).toBeGreaterThanOrEqual((exp + TOLERANCE) * 1000);
      expect(world.emulator.calls.refresh).toBe(refreshes);

      const res = await http().get('/life/whoami').set('Cookie', `wos-session=${cookie.value}`);
      expect(res.status).toBe(200);
      const renewed = sessionCookieFrom(res);
      expect(renewed).toBeTruthy();
      expect(world.emulator.calls.refresh).toBe(refreshes + 1);
      const again = clients.connect({ kind: 'cookie', value: renewed ?? '' });
      expect(await again.ask('whoami')).toEqual({ ok: true, data: { userId: ALICE } });
    });

    it("SessionService.signOut() over HTTP: that session's sockets get SESSION_ENDED and 4401, others stay", async () => {
      const signedOut = await world.cookie(ORG_B);
      const other = await world.cookie(ORG_B);
      const [a1, a2, b] = [signedOut, signedOut, other].map((c) => clients.connect(c));
      for (const client of [a1, a2, b]) expect((await client!.ask('whoami')).ok).toBe(true);

      const res = await http()
        .post('/life/sign-out')
        .set('Cookie', `wos-session=${signedOut.kind === 'cookie' ? signedOut.value : ''}`);
      expect(res.status).toBe(200);
      expect(res.body.logoutUrl).toEqual(expect.stringContaining('session_id='));
      for (const client of [a1, a2]) {
        const { reauth, closed } = await endOf(client!);
        expect(reauth).toMatchObject({ reason: 'SESSION_ENDED', code: 4401 });
        expectClose(kind, closed, 4401, 'SESSION_ENDED');
      }
      expect(await b!.ask('whoami')).toEqual({ ok: true, data: { userId: ALICE } });
    });

    it('many messages on one connection: its session is resolved (and verified) once', async () => {
      const verify = jest.spyOn(AccessTokenVerifier.prototype, 'verify');
      const track = jest.spyOn(ConnectionSessions.prototype, 'track');
      try {
        const client = clients.connect(await world.cookie(ORG_B));
        for (let i = 0; i < 10; i++) {
          expect(await client.ask('whoami')).toEqual({ ok: true, data: { userId: ALICE } });
          expect(await client.ask('beta')).toEqual({ ok: true, data: { userId: ALICE } });
        }
        expect(verify).toHaveBeenCalledTimes(1);
        expect(track).toHaveBeenCalledTimes(1);
      } finally {
        verify.mockRestore();
        track.mockRestore();
      }
    });

    it('WorkOS keys unreachable at the handshake: JWKS_UNAVAILABLE and 4503; the client reconnects later', async () => {
      // A fresh app: no keys fetched yet.
      const fresh = await startWsApp(kind, world.emulator, {
        gateway: lifetimeGateway(kind),
        upgradeRequests: false,
      });
      const pool = clientPool(kind, () => fresh.url);
      try {
        const cookie = await world.cookie(ORG_B);
        world.emulator.fault('jwks', { down: true });
        const { reauth, closed } = await refusedAtHandshake(pool.connect(cookie));
        expect(reauth).toMatchObject({ reason: 'JWKS_UNAVAILABLE', code: CLOSE_CODES.unavailable });
        expectClose(kind, closed, 4503, 'JWKS_UNAVAILABLE');

        world.emulator.clearFaults();
        // 4503 says "later": the key set backs off after failed fetches (issue 10.7), so a
        // client that reconnects at once may be refused again for a moment, never for good.
        const started = performance.now();
        let later = await pool.connect(cookie).ask('whoami');
        while (!later.ok && performance.now() - started < 5000) {
          expect(later).toMatchObject({
            code: kind === 'ws' ? CLOSE_CODES.unavailable : 'disconnected',
          });
          await new Promise((resolve) => setTimeout(resolve, 100));
          later = await pool.connect(cookie).ask('whoami');
        }
        expect(later).toEqual({ ok: true, data: { userId: ALICE } });
      } finally {
        world.emulator.clearFaults();
        await pool.closeAll();
        await fresh.close();
      }
    });

    // Its own app: a flag change makes every token issued in the same second stale.
    describe('after a flag change', () => {
      let changed: WsApp;
      const pool = clientPool(kind, () => changed.url);
      const http = () => request(changed.app.getHttpServer());
      beforeAll(async () => {
        changed = await startWsApp(kind, world.emulator, {
          gateway: lifetimeGateway(kind),
          controllers: [LifetimeController],
          upgradeRequests: false,
        });
      });
      afterEach(() => pool.closeAll());
      afterAll(() => changed.close());

      // First here: no earlier change in this app dates the tokens it creates now.
      it("a change scoped to ORG_A ends ORG_A's connections only: ORG_B's stays open", async () => {
        const inA = pool.connect(await world.cookie(ORG_A));
        const inB = pool.connect(await world.cookie(ORG_B));
        expect((await inA.ask('whoami')).ok).toBe(true);
        expect((await inB.ask('whoami')).ok).toBe(true);

        changed.app.get(FlagService).invalidate({ organizations: [ORG_A] }, 'test');
        const { reauth, closed } = await endOf(inA);
        expect(reauth).toMatchObject({ reason: 'STALE_CLAIMS', code: 4401 });
        expectClose(kind, closed, 4401, 'STALE_CLAIMS');
        // Ended in the same turn as ORG_A's, had it been affected.
        expect(await inB.ask('whoami')).toEqual({ ok: true, data: { userId: ALICE } });
      });

      it('FlagService.invalidate(): older connections get STALE_CLAIMS and 4401; after an HTTP refresh the new cookie stays connected', async () => {
        const old = await world.emulator.createSession({
          userId: ALICE,
          organizationId: ORG_B,
          issuedSecondsAgo: 5,
        });
        const cookie = cookieOf(world, old);
        const viaCookie = pool.connect(cookie);
        const viaBearer = pool.connect({ kind: 'bearer', value: old.accessToken });
        expect((await viaCookie.ask('beta')).ok).toBe(true);
        expect((await viaBearer.ask('whoami')).ok).toBe(true);

        changed.app.get(FlagService).invalidate('test');
        for (const client of [viaCookie, viaBearer]) {
          const { reauth, closed } = await endOf(client);
          expect(reauth).toMatchObject({ reason: 'STALE_CLAIMS', code: 4401 });
          expectClose(kind, closed, 4401, 'STALE_CLAIMS');
        }

        // The client's HTTP side refreshes the stale cookie, then it reconnects.
        const res = await http().get('/life/whoami').set('Cookie', `wos-session=${cookie.value}`);
        const renewed = sessionCookieFrom(res);
        expect(renewed).toBeTruthy();
        const fresh = pool.connect({ kind: 'cookie', value: renewed ?? '' });
        expect(await fresh.ask('beta')).toEqual({ ok: true, data: { userId: ALICE } });
        expect(await fresh.ask('whoami')).toEqual({ ok: true, data: { userId: ALICE } });
      });

      it('a connection opened after a flag change with an older token: refused STALE_CLAIMS at its handshake', async () => {
        const old = await world.emulator.createSession({
          userId: ALICE,
          organizationId: ORG_B,
          issuedSecondsAgo: 5,
        });
        changed.app.get(FlagService).invalidate('test');
        for (const credential of [
          cookieOf(world, old),
          { kind: 'bearer', value: old.accessToken } as const,
        ]) {
          const { reauth, closed } = await refusedAtHandshake(pool.connect(credential));
          expect(reauth).toMatchObject({ reason: 'STALE_CLAIMS', code: 4401 });
          expectClose(kind, closed, 4401, 'STALE_CLAIMS');
        }
      });
    });
  });
}

/**
 * `AuthKitModule.forRoot(..., globalGuard: true)`: AuthKitGuard is an APP_GUARD, and Nest runs
 * global guards on gateway messages too.
 */
export function describeGlobalGuard(kind: WsKind): void {
  const reply = (event: string, data: Record<string, unknown>) =>
    kind === 'ws' ? { event, data } : data;

  @Controller('api')
  class ApiController {
    @Get('me')
    me(@CurrentSession('userId') userId: string) {
      return { userId };
    }
  }

  @WebSocketGateway()
  class GuardedGateway {
    @SubscribeMessage('me')
    me(@CurrentSession() session: AuthKitSession) {
      return reply('me', { userId: session.userId });
    }

    @SubscribeMessage('open')
    @Public()
    open() {
      return reply('open', { open: true });
    }

    @SubscribeMessage('beta')
    @RequireFlag('beta')
    beta() {
      return reply('beta', { beta: true });
    }
  }

  describe(`globalGuard: true with a REST controller and a ${kind} gateway`, () => {
    let world: World;
    let server: WsApp;
    let watcher: ReturnType<typeof watchProcess>;
    const clients = clientPool(kind, () => server.url);

    beforeAll(async () => {
      watcher = watchProcess();
      world = await startWorld();
      server = await startWsApp(kind, world.emulator, {
        gateway: GuardedGateway,
        controllers: [ApiController],
        options: { globalGuard: true },
      });
    });
    afterEach(() => clients.closeAll());
    afterAll(async () => {
      await server.close();
      await world.emulator.close();
      watcher.stop();
    });

    it('a signed-in socket is answered, an anonymous one refused NO_SESSION; @Public() opens a message', async () => {
      const signedIn = clients.connect(await world.cookie(ORG_B));
      expect(await signedIn.ask('me')).toEqual({ ok: true, data: { userId: ALICE } });
      expect(await signedIn.ask('beta')).toEqual({ ok: true, data: { beta: true } });

      const anonymous = clients.connect({ kind: 'none' });
      expect(await anonymous.ask('me')).toMatchObject({
        ok: false,
        code: 401,
        reason: 'NO_SESSION',
      });
      expect(await anonymous.ask('beta')).toMatchObject({ ok: false, reason: 'NO_SESSION' });
      expect(await anonymous.ask('open')).toEqual({ ok: true, data: { open: true } });
    });

    it('the REST side is guarded the same way, and the process is alive', async () => {
      const http = request(server.app.getHttpServer());
      const anonymous = await http.get('/api/me');
      expect(anonymous.status).toBe(401);
      expect(anonymous.body).toMatchObject({ reason: 'NO_SESSION' });
      const cookie = await world.cookie(ORG_B);
      const signedIn = await http
        .get('/api/me')
        .set('Cookie', `wos-session=${cookie.kind === 'cookie' ? cookie.value : ''}`);
      expect(signedIn.body).toEqual({ userId: ALICE });

      expect(watcher.errors).toEqual([]);
      const still = clients.connect(cookie);
      expect(await still.ask('me')).toEqual({ ok: true, data: { userId: ALICE } });
    });

    // Last: the flag change makes every token of this second stale in this app.
    it('without authenticateConnection, its first message ties the connection to its session: a flag change ends it', async () => {
      const client = clients.connect(await world.cookie(ORG_B));
      expect(await client.ask('me')).toEqual({ ok: true, data: { userId: ALICE } });
      server.app.get(FlagService).invalidate('test');
      const { reauth, closed } = await endOf(client);
      expect(reauth).toMatchObject({ reason: 'STALE_CLAIMS', code: 4401 });
      expectClose(kind, closed, 4401, 'STALE_CLAIMS');
    });
  });
}
