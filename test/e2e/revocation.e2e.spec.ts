/**
 * Central revocation (issue 13 item 4): a revoked session (`sid`) is 401 `SESSION_REVOKED` for
 * every credential of it — cookie or Bearer, cached or not, WebSocket — never refreshed, on
 * every instance. Sources: the `session.revoked` webhook, `SessionService.revoke()`, sign-out.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import type { Redis } from 'ioredis';
import request from 'supertest';
import { SessionService, type AuthKitModuleOptions } from '../../lib/index.js';
import { RedisStore } from '../../lib/redis/index.js';
import { RevokedSessions } from '../../lib/session/revoked-sessions.js';
import { WorkOSEmulator, type EmulatorSession } from '../../lib/testing/index.js';
import {
  connect,
  LifetimeController,
  lifetimeGateway,
  startWsApp,
  type WsKind,
} from '../transports/support/ws-app.js';
import {
  COOKIE_PASSWORD,
  cookieFrom,
  startApp,
  type Platform,
  type TestApp,
} from './support/app.fixture.js';
import { OwnRedis, storeClient } from './support/own-redis.js';
import { ALICE, BOB, ORG_A, ORG_B, startSeededEmulator } from './support/seed.js';

const SECRET = 'whsec_e2e_revocation';
const ORIGIN = 'https://app.example.test';

/** A signed delivery of `event` as WorkOS sends it (snake_case `data`). */
function delivery(event: string, data: Record<string, unknown>, secret = SECRET) {
  const body = JSON.stringify({
    id: `event_${randomBytes(6).toString('hex')}`,
    event,
    data,
    created_at: new Date().toISOString(),
  });
  return { body, signature: WorkOSEmulator.signWebhook(body, secret) };
}

/** `session.revoked` for a session, with the fields WorkOS documents. */
function sessionRevoked(session: EmulatorSession) {
  const now = new Date().toISOString();
  return delivery('session.revoked', {
    object: 'session',
    id: session.sessionId,
    user_id: session.user.id,
    organization_id: session.organizationId,
    ip_address: '203.0.113.7',
    user_agent: 'e2e',
    auth_method: 'password',
    status: 'revoked',
    expires_at: now,
    ended_at: now,
    created_at: now,
    updated_at: now,
  });
}

function deliver(server: Server, { body, signature }: { body: string; signature?: string }) {
  const req = request(server).post('/webhooks/workos').set('Content-Type', 'application/json');
  return (signature === undefined ? req : req.set('WorkOS-Signature', signature)).send(body);
}

/** Every credential one session can arrive with. */
interface Credentials {
  session: EmulatorSession;
  /** A new seal of the session each call: a cookie no instance has seen. */
  cookie(): string;
  /** The same session with its access token expired: would be refreshed. */
  expiredCookie: string;
  /** Another access token of the same `sid`: a Bearer no instance has seen. */
  otherToken: string;
}

async function credentialsOf(
  emulator: WorkOSEmulator,
  userId: string,
  organizationId: string,
): Promise<Credentials> {
  const session = await emulator.createSession({ userId, organizationId });
  const now = Math.floor(Date.now() / 1000);
  const claims = {
    iss: emulator.issuer,
    sub: userId,
    sid: session.sessionId,
    org_id: organizationId,
  };
  const expired = await emulator.signAccessToken({ ...claims, iat: now - 600, exp: now - 300 });
  const otherToken = await emulator.signAccessToken({
    ...claims,
    jti: randomBytes(8).toString('hex'),
    iat: now,
    exp: now + 300,
  });
  return {
    session,
    cookie: () => `wos-session=${emulator.sealSession(session, COOKIE_PASSWORD)}`,
    expiredCookie: `wos-session=${emulator.sealSession(
      { ...session, accessToken: expired },
      COOKIE_PASSWORD,
    )}`,
    otherToken,
  };
}

function withCookie(server: Server, cookie: string) {
  return request(server).get('/guarded').set('Cookie', cookie);
}

function withBearer(server: Server, token: string) {
  return request(server).get('/guarded').set('Authorization', `Bearer ${token}`);
}

/** A 401 SESSION_REVOKED, and whether it cleared the cookie. */
function expectRevoked(res: request.Response, source: 'cookie' | 'bearer'): void {
  expect([res.status, res.body.reason]).toEqual([401, 'SESSION_REVOKED']);
  if (source === 'cookie') expect(cookieFrom(res, 'wos-session')).toBe('');
  else expect(res.headers['www-authenticate']).toBe('Bearer error="invalid_token"');
}

/** What the emulator answers a refresh grant with this refresh token (spends it if live). */
async function refreshGrant(emulator: WorkOSEmulator, refreshToken: string) {
  const res = await fetch(`${emulator.url}/user_management/authenticate`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({
      client_id: emulator.clientId,
      client_secret: emulator.apiKey,
      grant_type: 'refresh_token',
      refresh_token: refreshToken,
    }),
  });
  return { status: res.status, body: (await res.json()) as { error?: string } };
}

/**
 * WorkOS as the app reaches it, in front of the emulator: every call passes through, and
 * `POST /user_management/sessions/revoke` (the SDK's `revokeSession`) is recorded. An
 * emulator without that route (before helper-emulator13) revokes through its sign-out route,
 * which kills the session's refresh token the same way. `failRevoke`: WorkOS answers 500.
 */
async function startWorkOSFront(emulator: WorkOSEmulator) {
  const revoked: string[] = [];
  const state = { failRevoke: false };
  const server: HttpServer = createServer((req, res) => {
    void (async () => {
      const body = await readAll(req);
      const path = req.url ?? '/';
      if (req.method === 'POST' && path === '/user_management/sessions/revoke') {
        const sessionId = (JSON.parse(body) as { session_id: string }).session_id;
        revoked.push(sessionId);
        if (state.failRevoke) {
          res.writeHead(500, { 'Content-Type': 'application/json' });
          return res.end(JSON.stringify({ message: 'injected' }));
        }
      }
      const headers: Record<string, string> = {};
      for (const name of ['authorization', 'content-type', 'accept']) {
        const value = req.headers[name];
        if (typeof value === 'string') headers[name] = value;
      }
      let upstream = await fetch(`${emulator.url}${path}`, {
        method: req.method,
        headers,
        body: req.method === 'GET' || req.method === 'HEAD' ? undefined : body,
        redirect: 'manual',
      });
      if (upstream.status === 404 && path === '/user_management/sessions/revoke') {
        const sessionId = (JSON.parse(body) as { session_id: string }).session_id;
        upstream = await fetch(
          `${emulator.url}/user_management/sessions/logout?session_id=${encodeURIComponent(sessionId)}`,
        );
      }
      const text = await upstream.text();
      res.writeHead(upstream.status, {
        'Content-Type': upstream.headers.get('content-type') ?? 'application/json',
      });
      res.end(text);
    })().catch(() => {
      res.writeHead(502).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    revoked,
    state,
    /** Module options that send every WorkOS call through the front. */
    options: (): Partial<AuthKitModuleOptions> => ({
      ...emulator.moduleOptions({ hostname: '127.0.0.1', port }),
      tokens: { issuer: emulator.issuer },
    }),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

function readAll(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** Resolves with the source of the first revocation of `sessionId` `revoked` records. */
function heardOf(revoked: RevokedSessions, sessionId: string): Promise<string> {
  return new Promise((resolve) => {
    const stop = revoked.onRevoke((sid, source) => {
      if (sid !== sessionId) return;
      stop();
      resolve(source);
    });
  });
}

describe.each<Platform>(['express', 'fastify'])('session revocation on %s', (platform) => {
  let emulator: WorkOSEmulator;
  let front: Awaited<ReturnType<typeof startWorkOSFront>>;
  let t: TestApp;

  beforeAll(async () => {
    emulator = await startSeededEmulator();
    front = await startWorkOSFront(emulator);
    t = await startApp(platform, emulator, {
      ...front.options(),
      webhooks: true,
      webhookSecret: SECRET,
      routes: true,
      redirectUri: `${ORIGIN}/auth/callback`,
    });
  });
  afterAll(async () => {
    await t.close();
    await front.close();
    await emulator.close();
  });

  it('session.revoked webhook: cookie and Bearer of that sid, cached or not, expired or not → 401 SESSION_REVOKED, cookie cleared, no refresh; other sessions unaffected', async () => {
    const alice = await credentialsOf(emulator, ALICE, ORG_B);
    const bob = await credentialsOf(emulator, BOB, ORG_A);
    const cachedCookie = alice.cookie();
    const bobCookie = bob.cookie();
    // Seen once: served from the verified-session cache from now on.
    for (const res of [
      await withCookie(t.server, cachedCookie),
      await withBearer(t.server, alice.session.accessToken),
      await withCookie(t.server, bobCookie),
      await withBearer(t.server, bob.session.accessToken),
    ]) {
      expect(res.status).toBe(200);
    }

    const receipt = await deliver(t.server, sessionRevoked(alice.session));
    expect([receipt.status, receipt.body]).toEqual([200, { received: true }]);

    const refreshes = emulator.calls.refresh;
    expectRevoked(await withCookie(t.server, cachedCookie), 'cookie');
    expectRevoked(await withCookie(t.server, alice.cookie()), 'cookie');
    expectRevoked(await withCookie(t.server, alice.expiredCookie), 'cookie');
    expectRevoked(await withBearer(t.server, alice.session.accessToken), 'bearer');
    expectRevoked(await withBearer(t.server, alice.otherToken), 'bearer');
    // A flag route and the app's own refresh refuse it the same way.
    const flagged = await request(t.server).get('/flags/beta').set('Cookie', cachedCookie);
    expect([flagged.status, flagged.body.reason]).toEqual([401, 'SESSION_REVOKED']);
    const explicit = await request(t.server).post('/me/refresh').set('Cookie', cachedCookie);
    expect(explicit.body).toMatchObject({ reason: 'SESSION_REVOKED', status: 401 });
    expect(emulator.calls.refresh - refreshes).toBe(0);

    expect((await withCookie(t.server, bobCookie)).status).toBe(200);
    expect((await withCookie(t.server, bob.expiredCookie)).status).toBe(200); // refreshed
    expect((await withBearer(t.server, bob.session.accessToken)).status).toBe(200);
    expect(t.logger.lines).toContainEqual(
      expect.stringContaining(`session ${alice.session.sessionId} revoked (webhook)`),
    );
  });

  it('an unsigned or forged session.revoked is refused (400) and revokes nothing', async () => {
    const alice = await credentialsOf(emulator, ALICE, ORG_B);
    const forged = sessionRevoked(alice.session);
    const unsigned = await deliver(t.server, { body: forged.body });
    expect([unsigned.status, unsigned.body.reason]).toEqual([400, 'SIGNATURE_MISSING']);
    const wrongSecret = await deliver(t.server, {
      body: forged.body,
      signature: WorkOSEmulator.signWebhook(forged.body, 'whsec_someone_else'),
    });
    expect([wrongSecret.status, wrongSecret.body.reason]).toEqual([400, 'SIGNATURE_INVALID']);
    const tampered = JSON.parse(forged.body) as { data: { id: string } };
    tampered.data.id = 'session_01SOMEONE_ELSE';
    const replayedSignature = await deliver(t.server, {
      body: JSON.stringify(tampered),
      signature: forged.signature,
    });
    expect(replayedSignature.status).toBe(400);

    expect(t.app.get(RevokedSessions).has(alice.session.sessionId)).toBe(false);
    expect((await withCookie(t.server, alice.cookie())).status).toBe(200);
    expect((await withBearer(t.server, alice.session.accessToken)).status).toBe(200);
  });

  it('SessionService.revoke(sid): refused here at once, and WorkOS revokes it too (its refresh token is dead upstream)', async () => {
    const alice = await credentialsOf(emulator, ALICE, ORG_B);
    const cookie = alice.cookie();
    expect((await withCookie(t.server, cookie)).status).toBe(200);
    expect((await withBearer(t.server, alice.session.accessToken)).status).toBe(200);

    const outcome = await t.app.get(SessionService).revoke(alice.session.sessionId);
    expect(outcome).toEqual({ sessionId: alice.session.sessionId, upstream: true, reach: 'local' });
    expect(front.revoked).toContain(alice.session.sessionId);

    const refreshes = emulator.calls.refresh;
    expectRevoked(await withCookie(t.server, cookie), 'cookie');
    expectRevoked(await withCookie(t.server, alice.expiredCookie), 'cookie');
    expectRevoked(await withBearer(t.server, alice.session.accessToken), 'bearer');
    expect(emulator.calls.refresh - refreshes).toBe(0);
    // The refresh token was never spent here, and WorkOS no longer takes it.
    expect(await refreshGrant(emulator, alice.session.refreshToken)).toMatchObject({
      status: 400,
      body: { error: 'invalid_grant' },
    });
  });

  it('SessionService.revoke(sid) when WorkOS fails: logged, and the revocation still applies', async () => {
    const alice = await credentialsOf(emulator, ALICE, ORG_B);
    front.state.failRevoke = true;
    try {
      const outcome = await t.app.get(SessionService).revoke(alice.session.sessionId);
      expect(outcome).toMatchObject({ upstream: false, reach: 'local' });
    } finally {
      front.state.failRevoke = false;
    }
    expect(t.logger.lines).toContainEqual(
      expect.stringMatching(
        new RegExp(`^warn WorkOS did not revoke session ${alice.session.sessionId}`),
      ),
    );
    expectRevoked(await withCookie(t.server, alice.cookie()), 'cookie');
    expectRevoked(await withBearer(t.server, alice.session.accessToken), 'bearer');
  });

  it.each([
    ['POST /auth/logout', '/auth/logout'],
    ['SessionService.signOut()', '/me/sign-out'],
  ])(
    "sign-out through %s revokes the sid: that session's Bearer access token is refused at once",
    async (_, path) => {
      const alice = await credentialsOf(emulator, ALICE, ORG_B);
      expect((await withBearer(t.server, alice.session.accessToken)).status).toBe(200);
      const out = await request(t.server)
        .post(path)
        .set('Origin', ORIGIN)
        .set('Accept', 'application/json')
        .set('Cookie', alice.cookie());
      expect(out.status).toBe(200);
      expect(cookieFrom(out, 'wos-session')).toBe('');
      expectRevoked(await withBearer(t.server, alice.session.accessToken), 'bearer');
      expectRevoked(await withBearer(t.server, alice.otherToken), 'bearer');
      // A copy of the cookie taken before the sign-out is refused too, never refreshed.
      const refreshes = emulator.calls.refresh;
      expectRevoked(await withCookie(t.server, alice.expiredCookie), 'cookie');
      expect(emulator.calls.refresh - refreshes).toBe(0);
    },
  );
});

describe.each<WsKind>(['ws', 'socket.io'])('revocation and open %s connections', (kind) => {
  it('the connections of a revoked sid get authkit:reauthenticate SESSION_REVOKED and close 4401; others stay; a new handshake is refused', async () => {
    const emulator = await startSeededEmulator();
    const server = await startWsApp(kind, emulator, {
      gateway: lifetimeGateway(kind),
      controllers: [LifetimeController],
    });
    const clients: Array<ReturnType<typeof connect>> = [];
    try {
      const alice = await emulator.createSession({ userId: ALICE, organizationId: ORG_B });
      const bob = await emulator.createSession({ userId: BOB, organizationId: ORG_A });
      const cookie = (session: EmulatorSession) =>
        ({ kind: 'cookie', value: emulator.sealSession(session, COOKIE_PASSWORD) }) as const;
      const aliceSocket = connect(kind, server.url, cookie(alice));
      const bobSocket = connect(kind, server.url, cookie(bob));
      clients.push(aliceSocket, bobSocket);
      expect(await aliceSocket.ask('whoami')).toMatchObject({ ok: true });
      expect(await bobSocket.ask('whoami')).toMatchObject({ ok: true });

      await server.app.get(SessionService).revoke(alice.sessionId);
      expect(await aliceSocket.reauthenticated).toMatchObject({
        reason: 'SESSION_REVOKED',
        code: 4401,
      });
      const closed = await aliceSocket.closed;
      if (kind === 'ws') expect(closed).toMatchObject({ code: 4401, reason: 'SESSION_REVOKED' });
      else expect(closed.reason).toBe('io server disconnect');
      expect(await bobSocket.ask('whoami')).toMatchObject({ ok: true });

      const again = connect(kind, server.url, cookie(alice));
      clients.push(again);
      expect(await again.reauthenticated).toMatchObject({ reason: 'SESSION_REVOKED', code: 4401 });
    } finally {
      await Promise.all(clients.map((client) => client.close()));
      await server.close();
      await emulator.close();
    }
  });
});

describe.each<Platform>(['express', 'fastify'])(
  'revocation across instances sharing Redis on %s',
  (platform) => {
    let emulator: WorkOSEmulator;
    let redis: OwnRedis;
    const prefix = `nestjs-authkit-test-${randomBytes(4).toString('hex')}:`;
    const started: Array<{ app: TestApp; store: RedisStore; client: Redis }> = [];
    let a: TestApp;
    let b: TestApp;
    let redisDown = false;

    /**
     * Every instance's log: Nest's static Logger (the package's) writes to the app created
     * last.
     */
    const logged = () => started.flatMap(({ app }) => app.logger.lines);

    /** An instance on the shared Redis (its own client), with the webhook route. */
    async function instance(): Promise<TestApp> {
      const client = await storeClient(redis.port);
      const store = await RedisStore.create({ client, prefix });
      const app = await startApp(platform, emulator, {
        store,
        webhooks: true,
        webhookSecret: SECRET,
      });
      started.push({ app, store, client });
      return app;
    }

    beforeAll(async () => {
      emulator = await startSeededEmulator();
      redis = await OwnRedis.start();
      a = await instance();
      b = await instance();
    });
    afterAll(async () => {
      // OwnRedis.stop() waits for an exit that already happened when called twice.
      if (redisDown) await redis.start();
      for (const { app, store, client } of started) {
        await app.close();
        await store.close();
        client.disconnect();
      }
      await redis.stop();
      await emulator.close();
    });

    it("session.revoked on A → B's next request with that session is 401 SESSION_REVOKED, cached there or never seen there", async () => {
      const alice = await credentialsOf(emulator, ALICE, ORG_B);
      const cached = alice.cookie();
      expect((await withCookie(b.server, cached)).status).toBe(200);
      expect((await withBearer(b.server, alice.session.accessToken)).status).toBe(200);

      const heard = heardOf(b.app.get(RevokedSessions), alice.session.sessionId);
      expect((await deliver(a.server, sessionRevoked(alice.session))).status).toBe(200);
      // The webhook answered once the store held the revocation: a credential B has never seen
      // is refused on its first request there, announcement or not.
      expectRevoked(await withCookie(b.server, alice.cookie()), 'cookie');
      // B's cached credentials: refused once the announcement arrived.
      expect(await heard).toMatch(/^(peer|store)$/);
      const refreshes = emulator.calls.refresh;
      expectRevoked(await withCookie(b.server, cached), 'cookie');
      expectRevoked(await withBearer(b.server, alice.session.accessToken), 'bearer');
      expectRevoked(await withCookie(b.server, alice.expiredCookie), 'cookie');
      expect(emulator.calls.refresh - refreshes).toBe(0);
    });

    it('the announcement alone reaches a peer that holds the session cached (no store read)', async () => {
      const alice = await credentialsOf(emulator, ALICE, ORG_B);
      const cached = alice.cookie();
      expect((await withCookie(b.server, cached)).status).toBe(200);
      const heard = heardOf(b.app.get(RevokedSessions), alice.session.sessionId);
      await a.app.get(SessionService).revoke(alice.session.sessionId);
      expect(await heard).toBe('peer');
      expectRevoked(await withCookie(b.server, cached), 'cookie');
    });

    it('an instance started after the revocation refuses the session at first sight (the store key)', async () => {
      const alice = await credentialsOf(emulator, ALICE, ORG_B);
      expect((await deliver(a.server, sessionRevoked(alice.session))).status).toBe(200);
      const late = await instance();
      const refreshes = emulator.calls.refresh;
      expectRevoked(await withCookie(late.server, alice.cookie()), 'cookie');
      expectRevoked(await withBearer(late.server, alice.session.accessToken), 'bearer');
      expectRevoked(await withCookie(late.server, alice.expiredCookie), 'cookie');
      expect(emulator.calls.refresh - refreshes).toBe(0);
    });

    it('Redis down during the revocation: A refuses at once; B keeps serving the session until Redis is back, then refuses it', async () => {
      const alice = await credentialsOf(emulator, ALICE, ORG_B);
      const cachedOnBoth = alice.cookie();
      expect((await withCookie(a.server, cachedOnBoth)).status).toBe(200);
      expect((await withCookie(b.server, cachedOnBoth)).status).toBe(200);
      const revokedA = a.app.get(RevokedSessions);
      const revokedB = b.app.get(RevokedSessions);

      await redis.stop();
      redisDown = true;
      const resynced = new Promise<void>((resolve) => {
        const stop = revokedB.onResync(() => {
          stop();
          resolve();
        });
      });
      // WorkOS gets its 200: the revocation is held by A and retried until the store takes it.
      expect((await deliver(a.server, sessionRevoked(alice.session))).body).toEqual({
        received: true,
      });
      expect(revokedA.pendingCount).toBe(1);
      expectRevoked(await withCookie(a.server, cachedOnBoth), 'cookie');
      expectRevoked(await withCookie(a.server, alice.cookie()), 'cookie');
      expect(logged()).toContainEqual(
        expect.stringContaining('session revocation not shared: store unavailable'),
      );

      // B cannot hear of it: its cached credential is served, and one it has never seen is let
      // in (the store cannot be read; an outage signs nobody out).
      const unseenOnB = alice.cookie();
      expect((await withCookie(b.server, cachedOnBoth)).status).toBe(200);
      expect((await withCookie(b.server, unseenOnB)).status).toBe(200);
      expect(logged()).toContainEqual(
        expect.stringContaining('revoked sessions cannot be read: store unavailable'),
      );

      await redis.start();
      redisDown = false;
      // A's retry lands, and B's subscription is back (anything announced before it was
      // written to the store first, and B's cache was dropped): nothing is lost.
      await Promise.all([revokedA.whenShared(), resynced]);
      expect(revokedA.pendingCount).toBe(0);
      expectRevoked(await withCookie(b.server, cachedOnBoth), 'cookie');
      expectRevoked(await withCookie(b.server, unseenOnB), 'cookie');
      expect(revokedB.has(alice.session.sessionId)).toBe(true);
    });
  },
);
