import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import request from 'supertest';
import { RedisStore } from '../../lib/redis/index.js';
import { seal, unseal } from '../../lib/session/iron.js';
import type { WorkOSEmulator } from '../../lib/testing/index.js';
import {
  COOKIE_PASSWORD,
  cookieFrom,
  sessionCookieFrom,
  startApp,
  type Platform,
  type TestApp,
} from './support/app.fixture.js';
import { OwnRedis, storeClient } from './support/own-redis.js';
import { CAROL, ORG_A, ORG_B, startSeededEmulator } from './support/seed.js';

const ORIGIN = 'https://app.example.test';
const REDIRECT_URI = `${ORIGIN}/auth/callback`;
const STATE = 'wos-auth-state';
const COOKIE = 'wos-session';

/** What the browser counts against its 4096-byte limit: name, `=`, value. */
const cookieBytes = (value: string) => `${COOKIE}=${value}`.length;

/** The store id a reference cookie names (the test reads the seal with the app's password). */
function referenceOf(cookie: string): string {
  const opened = unseal(cookie, COOKIE_PASSWORD);
  if (!opened.ok) throw new Error(`cookie did not unseal: ${opened.reason}`);
  const { v, ref } = opened.data as { v?: number; ref?: string };
  if (v !== 1 || typeof ref !== 'string') throw new Error('not a reference cookie');
  return ref;
}

describe.each<Platform>(['express', 'fastify'])(
  'sessions larger than a cookie on %s',
  (platform) => {
    let emulator: WorkOSEmulator;
    let redis: OwnRedis;
    let prefix: string;
    const clients: Redis[] = [];
    const stores: RedisStore[] = [];
    /** Two instances sharing Redis. */
    const shared: TestApp[] = [];
    /** The in-process default store, no opt-in. */
    let memory: TestApp;
    /** The in-process store with `largeSessions: 'store'`. */
    let memoryOptIn: TestApp;
    const routes = { routes: true, redirectUri: REDIRECT_URI } as const;

    beforeAll(async () => {
      emulator = await startSeededEmulator();
      redis = await OwnRedis.start();
      prefix = `nestjs-authkit-large-${randomBytes(4).toString('hex')}:`;
      for (let i = 0; i < 2; i++) {
        const client = await storeClient(redis.port);
        clients.push(client);
        const store = await RedisStore.create({ client, prefix });
        stores.push(store);
        shared.push(await startApp(platform, emulator, { ...routes, store }));
      }
      memory = await startApp(platform, emulator, routes);
      memoryOptIn = await startApp(platform, emulator, { ...routes, largeSessions: 'store' });
    });
    afterAll(async () => {
      redis.resume();
      for (const app of [...shared, memory, memoryOptIn]) await app?.close();
      for (const store of stores) await store.close();
      for (const client of clients) client.disconnect();
      await redis.stop();
      await emulator.close();
    });

    /** Nest's Logger is process-wide: the last app created receives every app's lines. */
    const logLines = () => [...shared, memory, memoryOptIn].flatMap((t) => t.logger.lines);
    const sessionKey = (id: string) => `${prefix}session:${id}`;

    /** The hosted login's round trip: /auth/login, a code bound to its challenge, /auth/callback. */
    async function callback(t: TestApp, userId: string, organizationId: string) {
      const login = await request(t.server).get('/auth/login');
      const authorize = new URL(login.headers.location as string);
      const code = emulator.issueCode({
        userId,
        organizationId,
        codeChallenge: authorize.searchParams.get('code_challenge') ?? '',
      });
      const state = authorize.searchParams.get('state') ?? '';
      return request(t.server)
        .get(`/auth/callback?${new URLSearchParams({ code, state }).toString()}`)
        .set('Cookie', `${STATE}=${cookieFrom(login, STATE)}`);
    }

    async function signIn(t: TestApp, userId: string, organizationId: string): Promise<string> {
      const res = await callback(t, userId, organizationId);
      expect(res.status).toBe(302);
      const cookie = sessionCookieFrom(res);
      if (!cookie) throw new Error('no session cookie');
      return cookie;
    }

    const permissions = (t: TestApp, cookie: string) =>
      request(t.server).get('/guarded/permissions').set('Cookie', `${COOKIE}=${cookie}`);

    /** A small session: Carol in ORG_B, where she has no permissions. */
    async function smallCookie(): Promise<string> {
      const session = await emulator.createSession({ userId: CAROL, organizationId: ORG_B });
      return emulator.sealSession(session, COOKIE_PASSWORD);
    }

    const switchTo = (t: TestApp, cookie: string, organizationId: string) =>
      request(t.server)
        .post('/auth/switch-organization')
        .set('Origin', ORIGIN)
        .set('Accept', 'application/json')
        .set('Cookie', `${COOKIE}=${cookie}`)
        .send({ organizationId });

    it('issue 10.9: a refresh whose token carries 200 permissions keeps the user signed in (cookie ≤ 4096 bytes, session in the store) across two refreshes (SECURITY 33)', async () => {
      let cookie = await signIn(shared[0]!, CAROL, ORG_A);
      expect(cookieBytes(cookie)).toBeLessThanOrEqual(4096);
      let ref = referenceOf(cookie);
      const stored = await clients[0]!.get(sessionKey(ref));
      expect(stored!.length).toBeGreaterThan(8000); // the session itself: far over a cookie
      // The other instance reads it from the store.
      expect((await permissions(shared[1]!, cookie)).body).toEqual({
        userId: CAROL,
        permissions: 200,
      });

      for (const [at, then] of [
        [shared[1]!, shared[0]!],
        [shared[0]!, shared[1]!],
      ] as const) {
        const before = emulator.calls.refresh;
        const res = await request(at.server)
          .post('/me/refresh')
          .set('Cookie', `${COOKIE}=${cookie}`);
        expect([res.status, res.body.organizationId]).toEqual([200, ORG_A]);
        expect(emulator.calls.refresh - before).toBe(1);
        const next = sessionCookieFrom(res)!;
        expect(cookieBytes(next)).toBeLessThanOrEqual(4096);
        const nextRef = referenceOf(next);
        expect(nextRef).not.toBe(ref);
        // The previous entry is shortened, not deleted: requests under way still find it.
        const left = await clients[0]!.pttl(sessionKey(ref));
        expect(left).toBeGreaterThan(0);
        expect(left).toBeLessThanOrEqual(60_000);
        expect((await permissions(then, next)).body).toEqual({ userId: CAROL, permissions: 200 });
        cookie = next;
        ref = nextRef;
      }
      expect(logLines().some((l) => l.includes('Fe26.2*'))).toBe(false);
    });

    it('issue 10.9: an expired session kept in the store is refreshed on a plain request, into a new reference', async () => {
      const expired = await emulator.createSession({
        userId: CAROL,
        organizationId: ORG_A,
        accessTokenExpiresIn: -120,
      });
      const ref = randomBytes(32).toString('base64url');
      await clients[0]!.set(sessionKey(ref), emulator.sealSession(expired, COOKIE_PASSWORD));
      const cookie = seal({ v: 1, ref }, COOKIE_PASSWORD);
      const before = emulator.calls.refresh;
      const res = await permissions(shared[1]!, cookie);
      expect([res.status, res.body.permissions]).toEqual([200, 200]);
      expect(emulator.calls.refresh - before).toBe(1);
      const next = sessionCookieFrom(res)!;
      expect(cookieBytes(next)).toBeLessThanOrEqual(4096);
      expect(referenceOf(next)).not.toBe(ref);
      expect((await permissions(shared[0]!, next)).status).toBe(200);
    });

    it('issue 10.9: with the in-memory store and no opt-in, an oversized session is a loud 500 SESSION_TOO_LARGE and the old cookie is kept (SECURITY 25)', async () => {
      const small = await smallCookie();
      const res = await switchTo(memory, small, ORG_A);
      expect([res.status, res.body.reason]).toEqual([500, 'SESSION_TOO_LARGE']);
      // Neither written (the browser would drop it) nor cleared.
      expect(sessionCookieFrom(res)).toBeUndefined();
      const logged = logLines().filter((l) => l.includes('SESSION_TOO_LARGE'));
      expect(
        logged.some((l) => l.startsWith('error') && /RedisStore.*largeSessions: 'store'/.test(l)),
      ).toBe(true);
      expect(logLines().some((l) => l.includes('Fe26.2*'))).toBe(false);
      // The old cookie still works.
      expect((await permissions(memory, small)).body).toEqual({ userId: CAROL, permissions: 0 });

      // A sign-in straight into the large session is refused the same way, with no cookie.
      const signIn = await callback(memory, CAROL, ORG_A);
      expect([signIn.status, signIn.body.reason]).toEqual([500, 'SESSION_TOO_LARGE']);
      expect(sessionCookieFrom(signIn)).toBeUndefined();
    });

    it("issue 10.9: largeSessions: 'store' keeps a single instance's large session in memory, and says at boot that it ends on restart", async () => {
      expect(memoryOptIn.logger.lines.some((l) => l.includes('they end when it restarts'))).toBe(
        true,
      );
      const res = await switchTo(memoryOptIn, await smallCookie(), ORG_A);
      expect([res.status, res.body.organizationId]).toEqual([200, ORG_A]);
      const cookie = sessionCookieFrom(res)!;
      expect(cookieBytes(cookie)).toBeLessThanOrEqual(4096);
      expect((await permissions(memoryOptIn, cookie)).body).toEqual({
        userId: CAROL,
        permissions: 200,
      });
    });

    it('issue 10.9: signing out deletes the session kept in the store', async () => {
      const cookie = await signIn(shared[0]!, CAROL, ORG_A);
      const ref = referenceOf(cookie);
      const out = await request(shared[0]!.server)
        .post('/auth/logout')
        .set('Origin', ORIGIN)
        .set('Accept', 'application/json')
        .set('Cookie', `${COOKIE}=${cookie}`);
      expect([out.status, out.body.signedOut]).toEqual([200, true]);
      expect(await clients[0]!.exists(sessionKey(ref))).toBe(0);
      const after = await permissions(shared[1]!, cookie);
      expect([after.status, after.body.reason]).toEqual([401, 'SESSION_NOT_FOUND']);
    });

    it('issue 10.9: a tampered or unknown reference is refused (401), Redis down on read is 503 and keeps the cookie', async () => {
      const cookie = await signIn(shared[0]!, CAROL, ORG_A);

      // Genuinely sealed, but the store never had it (evicted, or signed out elsewhere).
      const unknown = seal({ v: 1, ref: randomBytes(32).toString('base64url') }, COOKIE_PASSWORD);
      const gone = await permissions(shared[1]!, unknown);
      expect([gone.status, gone.body.reason]).toEqual([401, 'SESSION_NOT_FOUND']);
      expect(sessionCookieFrom(gone)).toBe(''); // cleared: it can never work again

      // One character of the reference seal changed.
      const parts = cookie.split('*');
      parts[4] = (parts[4]![0] === 'A' ? 'B' : 'A') + parts[4]!.slice(1);
      const tampered = await permissions(shared[1]!, parts.join('*'));
      expect([tampered.status, tampered.body.reason]).toEqual([401, 'INVALID_SESSION']);

      // Redis frozen (this instance has not read the cookie yet, so it must ask Redis).
      redis.pause();
      try {
        const down = await permissions(shared[1]!, cookie);
        expect([down.status, down.body.reason]).toEqual([503, 'STORE_UNAVAILABLE']);
        expect(down.headers['retry-after']).toBe('1');
        expect(sessionCookieFrom(down)).toBeUndefined(); // kept
      } finally {
        redis.resume();
      }
      expect((await permissions(shared[1]!, cookie)).body).toEqual({
        userId: CAROL,
        permissions: 200,
      });
    });

    it('issue 10.9: Redis down when a large session is written is 503 STORE_UNAVAILABLE, keeps the old cookie, and the retry completes it', async () => {
      const small = await smallCookie();
      const before = emulator.calls.refresh;
      redis.pause();
      let res;
      try {
        res = await switchTo(shared[0]!, small, ORG_A);
      } finally {
        redis.resume();
      }
      expect([res.status, res.body.reason]).toEqual([503, 'STORE_UNAVAILABLE']);
      expect(sessionCookieFrom(res)).toBeUndefined();
      // The refresh token was spent once; the retry reuses that result and now stores it.
      const retry = await switchTo(shared[0]!, small, ORG_A);
      expect([retry.status, retry.body.organizationId]).toEqual([200, ORG_A]);
      expect(emulator.calls.refresh - before).toBe(1);
      const cookie = sessionCookieFrom(retry)!;
      expect(cookieBytes(cookie)).toBeLessThanOrEqual(4096);
      expect((await permissions(shared[1]!, cookie)).body.permissions).toBe(200);
    });
  },
);
