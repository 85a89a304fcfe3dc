import { WorkOS } from '@workos-inc/node';
import request from 'supertest';
import type { WorkOSEmulator } from '../../lib/testing/index.js';
import { unseal } from '../../lib/session/iron.js';
import {
  COOKIE_PASSWORD,
  sessionCookieFrom,
  honourRetryAfter,
  until,
  setCookies,
  startApp,
  type Platform,
  type TestApp,
} from './support/app.fixture.js';
import { ALICE, BOB, ORG_A, ORG_B, startSeededEmulator } from './support/seed.js';

type SealedPayload = { accessToken: string; refreshToken: string; organizationId?: string };

function payloadOf(cookie: string): SealedPayload {
  const result = unseal(cookie, COOKIE_PASSWORD);
  if (!result.ok) throw new Error(`cookie did not unseal: ${result.reason}`);
  return result.data as SealedPayload;
}

function claimsOf(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8')) as Record<
    string,
    unknown
  >;
}

describe.each<Platform>(['express', 'fastify'])('sessions and flags on %s', (platform) => {
  let emulator: WorkOSEmulator;
  let t: TestApp;
  let workos: WorkOS;

  beforeAll(async () => {
    emulator = await startSeededEmulator();
    t = await startApp(platform, emulator);
    workos = new WorkOS(emulator.apiKey, { ...emulator.connection(), maxRetries: 0 });
  });
  afterAll(async () => {
    await t.close();
    await emulator.close();
  });
  afterEach(() => emulator.clearFaults());

  async function cookieFor(
    userId: string,
    organizationId?: string,
    accessTokenExpiresIn?: number,
  ): Promise<string> {
    const session = await emulator.createSession({ userId, organizationId, accessTokenExpiresIn });
    return emulator.sealSession(session, COOKIE_PASSWORD);
  }
  /** An expired cookie whose refresh token was spent behind our back (another device, an old tab). */
  async function spentCookie(): Promise<string> {
    const session = await emulator.createSession({
      userId: ALICE,
      organizationId: ORG_B,
      accessTokenExpiresIn: -120,
    });
    await workos.userManagement.authenticateWithRefreshToken({
      clientId: emulator.clientId,
      refreshToken: session.refreshToken,
    });
    return emulator.sealSession(session, COOKIE_PASSWORD);
  }
  const get = (path: string, cookie?: string) => {
    const req = request(t.server).get(path);
    return cookie === undefined ? req : req.set('Cookie', `wos-session=${cookie}`);
  };

  describe('@RequireFlag', () => {
    it('answers 401 NO_SESSION without a session', async () => {
      const res = await get('/flags/beta');
      expect(res.status).toBe(401);
      expect(res.body).toMatchObject({ reason: 'NO_SESSION' });
    });

    it('lets a session whose claim has the flag through', async () => {
      const res = await get('/flags/beta', await cookieFor(ALICE, ORG_B));
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ ok: true, organizationId: ORG_B, flags: ['beta'] });
    });

    it('answers 403 naming the missing flag when the claim lacks it', async () => {
      const res = await get('/flags/beta', await cookieFor(ALICE, ORG_A));
      expect(res.status).toBe(403);
      expect(res.body).toMatchObject({ reason: 'FLAG_DISABLED', flags: ['beta'], mode: 'all' });
    });

    it("mode 'any' needs one flag, the default 'all' needs every flag", async () => {
      const cookie = await cookieFor(ALICE, ORG_B); // beta, not alpha
      expect((await get('/flags/any', cookie)).status).toBe(200);
      const all = await get('/flags/all', cookie);
      expect(all.status).toBe(403);
      expect(all.body.flags).toEqual(['alpha']);
      expect((await get('/flags/any', await cookieFor(ALICE, ORG_A))).status).toBe(403);
    });

    it('works on a controller, and a method requirement adds to it', async () => {
      const withBeta = await cookieFor(ALICE, ORG_B);
      expect((await get('/class-gated', withBeta)).status).toBe(200);
      expect((await get('/class-gated/and-alpha', withBeta)).status).toBe(403);
      expect((await get('/class-gated', await cookieFor(ALICE, ORG_A))).status).toBe(403);
    });

    it('accepts a Bearer access token', async () => {
      const session = await emulator.createSession({ userId: ALICE, organizationId: ORG_B });
      const res = await request(t.server)
        .get('/flags/beta')
        .set('Authorization', `Bearer ${session.accessToken}`);
      expect(res.status).toBe(200);
      expect(setCookies(res)).toEqual([]);
    });

    it('answers an expired Bearer token with 401 and WWW-Authenticate, without refreshing', async () => {
      const session = await emulator.createSession({
        userId: ALICE,
        organizationId: ORG_B,
        accessTokenExpiresIn: -120,
      });
      const before = emulator.calls.refresh;
      const res = await request(t.server)
        .get('/flags/beta')
        .set('Authorization', `Bearer ${session.accessToken}`);
      expect(res.status).toBe(401);
      expect(res.body).toMatchObject({ reason: 'EXPIRED_JWT' });
      expect(res.headers['www-authenticate']).toBe('Bearer error="invalid_token"');
      expect(emulator.calls.refresh).toBe(before);
    });
  });

  describe('expired but genuine cookie', () => {
    it('is refreshed in its own organization before the flag guard decides', async () => {
      // Default org A lacks `beta`: a refresh that dropped org B would answer 403.
      const cookie = await cookieFor(ALICE, ORG_B, -120);
      const before = emulator.calls.refresh;
      const res = await get('/flags/beta', cookie);
      expect(res.status).toBe(200);
      expect(res.body.organizationId).toBe(ORG_B);
      expect(emulator.calls.refresh).toBe(before + 1);
      const fresh = sessionCookieFrom(res);
      expect(fresh).toBeDefined();
      expect(claimsOf(payloadOf(fresh!).accessToken).org_id).toBe(ORG_B);
    });

    it('picks up a flag that was turned on since the token was issued', async () => {
      const cookie = await cookieFor(BOB, ORG_A, -120); // bob has no flags at issuance
      expect((await get('/flags/all', await cookieFor(BOB, ORG_A))).status).toBe(403);
      emulator.setFlag('alpha', { users: [BOB] });
      emulator.setFlag('beta', { orgRule: 'some', organizations: [ORG_A, ORG_B] });
      try {
        const res = await get('/flags/all', cookie);
        expect(res.status).toBe(200);
      } finally {
        emulator.setFlag('alpha', { users: [] });
        emulator.setFlag('beta', { orgRule: 'some', organizations: [ORG_B] });
      }
    });

    it('N concurrent requests cause exactly one upstream refresh and share one new cookie', async () => {
      const cookie = await cookieFor(ALICE, ORG_B, -120);
      const before = emulator.calls.refresh;
      emulator.fault('authenticate', { delayMs: 100 }); // keep the refresh in flight while all arrive
      const N = 25;
      const responses = await Promise.all(
        Array.from({ length: N }, (_, i) => get(i % 2 ? '/flags/beta' : '/me', cookie)),
      );
      expect(emulator.calls.refresh - before).toBe(1);
      expect(responses.map((r) => r.status)).toEqual(Array(N).fill(200));
      const cookies = new Set(responses.map((r) => sessionCookieFrom(r)));
      expect(cookies.size).toBe(1);
      expect([...cookies][0]).toBeDefined();
    });

    it('writes the refreshed cookie with safe attributes, also when the handler throws', async () => {
      const res = await get('/flags/throws', await cookieFor(ALICE, ORG_B, -120));
      expect(res.status).toBe(400);
      const line = setCookies(res).find((c) => c.startsWith('wos-session='));
      expect(line).toMatch(/; HttpOnly/i);
      expect(line).toMatch(/; SameSite=Lax/i);
      expect(line).toMatch(/; Path=\//i);
      expect(line).toMatch(/; Secure/i); // the default, even on plain http
    });

    it('34: a response that sets or clears the session cookie is private, no-store, Vary: Cookie', async () => {
      const refreshed = await get('/me', await cookieFor(ALICE, ORG_B, -120));
      expect(sessionCookieFrom(refreshed)).toBeDefined();
      const cleared = await get('/flags/beta', await spentCookie());
      expect(sessionCookieFrom(cleared)).toBe('');
      for (const res of [refreshed, cleared]) {
        expect(res.headers['cache-control']).toBe('private, no-store');
        expect(String(res.headers.vary).split(/\s*,\s*/)).toContain('Cookie');
      }
      // A response that does not touch the cookie is left to the app.
      const untouched = await get('/me', await cookieFor(ALICE, ORG_B));
      expect(untouched.headers['cache-control']).toBeUndefined();
    });

    it('30: Secure comes from configuration, never from the Host header', async () => {
      const secureOf = async (app: TestApp, path: string, name: string, host: string) => {
        // A proxy's own host and scheme claims must change nothing either way.
        const res = await request(app.server)
          .get(path)
          .set('Host', host)
          .set('X-Forwarded-Proto', host.startsWith('127.') ? 'http' : 'https')
          .set('Cookie', `wos-session=${await cookieFor(ALICE, ORG_B, -120)}`);
        const line = setCookies(res).find((c) => c.startsWith(`${name}=`));
        expect(line).toBeDefined();
        return /; Secure/i.test(line!);
      };
      // What a TLS proxy forwarding to http://127.0.0.1:3000 sends by default.
      expect(await secureOf(t, '/me', 'wos-session', '127.0.0.1:3000')).toBe(true);
      const https = await startApp(platform, emulator, {
        redirectUri: 'https://app.example.com/auth/callback',
        routes: true,
      });
      const http = await startApp(platform, emulator, {
        redirectUri: 'http://localhost:3000/auth/callback',
        routes: true,
      });
      const off = await startApp(platform, emulator, { cookie: { secure: false } });
      try {
        expect(await secureOf(https, '/me', 'wos-session', '127.0.0.1:3000')).toBe(true);
        expect(await secureOf(https, '/auth/login', 'wos-auth-state', '127.0.0.1:3000')).toBe(true);
        // Local development on plain http: not Secure, whatever the headers say.
        expect(await secureOf(http, '/me', 'wos-session', 'app.example.com')).toBe(false);
        expect(await secureOf(http, '/auth/login', 'wos-auth-state', 'app.example.com')).toBe(
          false,
        );
        expect(await secureOf(off, '/me', 'wos-session', 'app.example.com')).toBe(false);
      } finally {
        await Promise.all([https.close(), http.close(), off.close()]);
      }
    });

    it('is refreshed transparently on routes without guards', async () => {
      const res = await get('/me', await cookieFor(ALICE, ORG_B, -120));
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ userId: ALICE, organizationId: ORG_B, source: 'cookie' });
      expect(res.body.user).toMatchObject({ id: ALICE, email: 'alice@example.test' });
      expect(sessionCookieFrom(res)).toBeDefined();
      const unguardedThrow = await get('/me/throws', await cookieFor(ALICE, ORG_B, -120));
      expect(unguardedThrow.status).toBe(400);
      expect(sessionCookieFrom(unguardedThrow)).toBeDefined();
    });

    it('writes a cookie the SDK itself accepts', async () => {
      const res = await get('/me', await cookieFor(ALICE, ORG_B, -120));
      const auth = await workos.userManagement
        .loadSealedSession({
          sessionData: sessionCookieFrom(res)!,
          cookiePassword: COOKIE_PASSWORD,
        })
        .authenticate();
      expect(auth).toMatchObject({ authenticated: true, organizationId: ORG_B });
    });

    it('invalid_grant (refresh token already spent) → 401 REFRESH_FAILED and the cookie is cleared', async () => {
      const res = await get('/flags/beta', await spentCookie());
      expect(res.status).toBe(401);
      expect(res.body).toMatchObject({ reason: 'REFRESH_FAILED' });
      const cleared = setCookies(res).find((c) => c.startsWith('wos-session='));
      expect(cleared).toMatch(/^wos-session=;/);
      expect(cleared).toMatch(/Expires=Thu, 01 Jan 1970|Max-Age=0/i);
    });

    it.each([
      ['500', { status: 500 }],
      ['502', { status: 502 }],
      ['429', { status: 429 }],
      ['connection dropped', { down: true }],
    ])(
      'a transient failure (%s) → 503 REFRESH_UNAVAILABLE, cookie kept, next try after Retry-After works',
      async (_n, fault) => {
        const cookie = await cookieFor(ALICE, ORG_B, -120);
        emulator.fault('authenticate', fault);
        const res = await get('/flags/beta', cookie);
        expect(res.status).toBe(503);
        expect(res.body).toMatchObject({ reason: 'REFRESH_UNAVAILABLE' });
        expect(res.headers['retry-after']).toBe('1');
        expect(setCookies(res)).toEqual([]);
        emulator.clearFaults();
        await honourRetryAfter(res);
        const retry = await get('/flags/beta', cookie);
        expect(retry.status).toBe(200);
        expect(sessionCookieFrom(retry)).toBeDefined();
      },
    );

    it('issue 10.6: a refresh slower than api.timeoutMs but within refresh.timeoutMs succeeds (no token spent for nothing)', async () => {
      // Other WorkOS calls give up after 150 ms; the grant waits 3× that by default.
      const slow = await startApp(platform, emulator, { api: { timeoutMs: 150 } });
      try {
        const cookie = await cookieFor(ALICE, ORG_B, -120);
        emulator.fault('authenticate', { delayMs: 300, times: 1 });
        const res = await request(slow.server)
          .get('/flags/beta')
          .set('Cookie', `wos-session=${cookie}`);
        expect([res.status, res.body.reason]).toEqual([200, undefined]);
        expect(sessionCookieFrom(res)).toMatch(/^Fe26\.2\*/);
      } finally {
        await slow.close();
      }
    });

    it('issue 10.6: WorkOS spends the token but answers after refresh.timeoutMs: the invalid_grant that follows is 503 with the cookie kept, not a sign-out', async () => {
      const slow = await startApp(platform, emulator, {
        api: { timeoutMs: 100 },
        refresh: { timeoutMs: 200 },
      });
      try {
        const cookie = await cookieFor(ALICE, ORG_B, -120);
        const spent = emulator.calls.refreshSpent;
        const refused = emulator.calls.invalidGrant;
        emulator.fault('authenticate', { delayMs: 600, times: 1 });
        const get = () =>
          request(slow.server).get('/flags/beta').set('Cookie', `wos-session=${cookie}`);
        const timedOut = await get();
        expect([timedOut.status, timedOut.body.reason]).toEqual([503, 'REFRESH_UNAVAILABLE']);
        expect(setCookies(timedOut)).toEqual([]);
        // The race: WorkOS rotated the token after we stopped waiting for its answer.
        await until(() => emulator.calls.refreshSpent > spent);
        await honourRetryAfter(timedOut);
        const after = await get();
        expect(emulator.calls.invalidGrant - refused).toBe(1);
        expect([after.status, after.body.reason]).toEqual([503, 'REFRESH_UNAVAILABLE']);
        expect(setCookies(after)).toEqual([]);
        // The token is known spent: asking again costs WorkOS nothing.
        await honourRetryAfter(after);
        expect((await get()).status).toBe(503);
        expect(emulator.calls.invalidGrant - refused).toBe(1);
      } finally {
        await slow.close();
      }
    });

    it('a refresh slower than refresh.timeoutMs → 503, cookie kept', async () => {
      const slow = await startApp(platform, emulator, { api: { timeoutMs: 150 } });
      try {
        const cookie = await cookieFor(ALICE, ORG_B, -120);
        emulator.fault('authenticate', { delayMs: 1000, times: 1 });
        const res = await request(slow.server)
          .get('/flags/beta')
          .set('Cookie', `wos-session=${cookie}`);
        expect(res.status).toBe(503);
        expect(res.body).toMatchObject({ reason: 'REFRESH_UNAVAILABLE' });
        expect(setCookies(res)).toEqual([]);
      } finally {
        await slow.close();
      }
    });

    it('issue 10.8: failures are shared: with WorkOS resetting connections, 10 concurrent then 10 sequential requests on one expired cookie make one upstream call', async () => {
      const cookie = await cookieFor(ALICE, ORG_B, -120);
      emulator.fault('authenticate', { down: true });
      const before = emulator.calls.refresh;
      const concurrent = await Promise.all(
        Array.from({ length: 10 }, () => get('/flags/beta', cookie)),
      );
      const sequential = [];
      for (let i = 0; i < 10; i++) sequential.push(await get('/flags/beta', cookie));
      emulator.clearFaults();
      for (const res of [...concurrent, ...sequential]) {
        expect([res.status, res.body.reason]).toEqual([503, 'REFRESH_UNAVAILABLE']);
        expect(setCookies(res)).toEqual([]);
      }
      expect(emulator.calls.refresh - before).toBe(1);
      // Once the window has passed, the same cookie refreshes.
      await honourRetryAfter(sequential.at(-1)!);
      expect((await get('/flags/beta', cookie)).status).toBe(200);
    });
  });

  describe('issue 10.10: cookie sessions are refreshed before their token expires', () => {
    /** A sealed cookie whose token ends `expiresIn` s from now and was issued `ago` s ago. */
    async function minted(expiresIn: number, ago = 0, organizationId = ORG_B) {
      const session = await emulator.createSession({
        userId: ALICE,
        organizationId,
        accessTokenExpiresIn: expiresIn,
        issuedSecondsAgo: ago,
      });
      const { jti, exp } = claimsOf(session.accessToken) as { jti: string; exp: number };
      return { session, jti, exp, cookie: emulator.sealSession(session, COOKIE_PASSWORD) };
    }
    /** The token the handler was given must be the one in the cookie the response set. */
    function expectHandlerGotNewToken(res: request.Response, old: string): void {
      expect(res.status).toBe(200);
      const fresh = sessionCookieFrom(res);
      expect(fresh).toMatch(/^Fe26\.2\*/);
      const claims = claimsOf(payloadOf(fresh!).accessToken);
      expect(res.body.jti).not.toBe(old);
      expect(res.body).toEqual({ jti: claims.jti, exp: claims.exp });
      expect(claims.org_id).toBe(ORG_B);
      expect(res.body.exp).toBeGreaterThan(Date.now() / 1000);
    }

    it('issue 10.10: a cookie token 20 s past exp is refreshed, never handed to the handler', async () => {
      const late = await minted(-20, 300);
      const before = emulator.calls.refresh;
      expectHandlerGotNewToken(await get('/guarded/token', late.cookie), late.jti);
      expect(emulator.calls.refresh - before).toBe(1);

      // And when WorkOS cannot be reached, the handler gets nothing rather than the dead token.
      const stranded = await minted(-20, 300);
      emulator.fault('authenticate', { status: 500 });
      const res = await get('/guarded/token', stranded.cookie);
      expect([res.status, res.body.reason]).toEqual([503, 'REFRESH_UNAVAILABLE']);
      expect(setCookies(res)).toEqual([]);
    });

    it('issue 10.10: a cookie token due within the buffer (exp in 30 s, lifetime 1 h) is refreshed proactively; the handler sees the new token', async () => {
      const due = await minted(30, 3570);
      const before = emulator.calls.refresh;
      const res = await get('/guarded/token', due.cookie);
      expectHandlerGotNewToken(res, due.jti);
      expect(emulator.calls.refresh - before).toBe(1);
      // The new token (5 min) is far from due: used as is.
      const again = await get('/guarded/token', sessionCookieFrom(res));
      expect(again.body).toEqual(res.body);
      expect(setCookies(again)).toEqual([]);
      expect(emulator.calls.refresh - before).toBe(1);
    });

    it('issue 10.10: a cached cookie session that becomes due is refreshed on its next request', async () => {
      // A 4 s token is due in its second half: the first request caches it, not due yet.
      const short = await minted(4);
      const before = emulator.calls.refresh;
      const first = await get('/guarded/token', short.cookie);
      expect([first.status, first.body.jti]).toEqual([200, short.jti]);
      expect(setCookies(first)).toEqual([]);
      expect(emulator.calls.refresh).toBe(before);
      await until(() => Date.now() >= (short.exp - 2) * 1000, 4000);
      expectHandlerGotNewToken(await get('/guarded/token', short.cookie), short.jti);
      expect(emulator.calls.refresh - before).toBe(1);
    });

    it('issue 10.10: a proactive refresh that fails transiently serves the still-valid token (200, no cookie cleared, flags decided from it)', async () => {
      const due = await minted(30, 3570);
      const before = emulator.calls.refresh;
      emulator.fault('authenticate', { status: 500 });
      // Not marked stale: a due token's flags are as current as ever, so the claim decides.
      const gated = await get('/flags/beta', due.cookie);
      expect(gated.status).toBe(200);
      expect(gated.body).toEqual({ ok: true, organizationId: ORG_B, flags: ['beta'] });
      expect(setCookies(gated)).toEqual([]);
      expect(emulator.calls.refresh - before).toBe(1);
      const handler = await get('/guarded/token', due.cookie);
      expect(handler.body).toEqual({ jti: due.jti, exp: due.exp });
      expect(setCookies(handler)).toEqual([]);
    });

    it('issue 10.10: a due token whose refresh token is dead is 401 REFRESH_FAILED, cookie cleared (WorkOS ended the session)', async () => {
      const due = await minted(30, 3570);
      await workos.userManagement.authenticateWithRefreshToken({
        clientId: emulator.clientId,
        refreshToken: due.session.refreshToken,
      });
      const res = await get('/guarded/token', due.cookie);
      expect([res.status, res.body.reason]).toEqual([401, 'REFRESH_FAILED']);
      expect(sessionCookieFrom(res)).toBe('');
    });

    it('issue 10.10: a 60 s token is not refreshed in the first half of its life', async () => {
      const before = emulator.calls.refresh;
      // A 60 s token just issued and 25 s in; a 20 s token 5 s in (a flat 30 s buffer would
      // refresh it on every request).
      for (const unripe of [await minted(60), await minted(35, 25), await minted(15, 5)]) {
        for (let i = 0; i < 3; i++) {
          const res = await get('/guarded/token', unripe.cookie);
          expect([res.status, res.body.jti]).toEqual([200, unripe.jti]);
          expect(setCookies(res)).toEqual([]);
        }
      }
      expect(emulator.calls.refresh).toBe(before);
      // 35 s in, it is due.
      const ripe = await minted(25, 35);
      expectHandlerGotNewToken(await get('/guarded/token', ripe.cookie), ripe.jti);
      expect(emulator.calls.refresh - before).toBe(1);
    });

    it('issue 10.10: refresh.bufferSeconds sets the margin (0: a cookie token is refreshed only at exp)', async () => {
      const atExp = await startApp(platform, emulator, { refresh: { bufferSeconds: 0 } });
      const early = await startApp(platform, emulator, { refresh: { bufferSeconds: 600 } });
      const at = (app: TestApp, cookie: string) =>
        request(app.server).get('/guarded/token').set('Cookie', `wos-session=${cookie}`);
      try {
        const before = emulator.calls.refresh;
        const due = await minted(30, 3570); // due by the default 60 s margin
        const kept = await at(atExp, due.cookie);
        expect(kept.body).toEqual({ jti: due.jti, exp: due.exp });
        expect(setCookies(kept)).toEqual([]);
        expect(emulator.calls.refresh).toBe(before);
        const far = await minted(500, 3100); // 500 s left: due by a 600 s margin
        expectHandlerGotNewToken(await at(early, far.cookie), far.jti);
        expect(emulator.calls.refresh - before).toBe(1);
      } finally {
        await Promise.all([atExp.close(), early.close()]);
      }
    });

    it('issue 10.10: a Bearer token 10 s past exp is still accepted (small leeway); 40 s past is 401 EXPIRED_JWT', async () => {
      const bearer = (token: string) =>
        request(t.server).get('/guarded/token').set('Authorization', `Bearer ${token}`);
      const before = emulator.calls.refresh;
      const skewed = await minted(-10, 290);
      const accepted = await bearer(skewed.session.accessToken);
      expect(accepted.body).toEqual({ jti: skewed.jti, exp: skewed.exp });
      expect(setCookies(accepted)).toEqual([]);
      // Cached: the second answer comes from the same leeway.
      expect((await bearer(skewed.session.accessToken)).status).toBe(200);
      const late = await minted(-40, 260);
      const refused = await bearer(late.session.accessToken);
      expect([refused.status, refused.body.reason]).toEqual([401, 'EXPIRED_JWT']);
      expect(refused.headers['www-authenticate']).toBe('Bearer error="invalid_token"');
      expect(emulator.calls.refresh).toBe(before);
    });
  });

  describe('FlagService, SessionService, decorators, AuthKitGuard', () => {
    it('FlagService reads the current request session', async () => {
      expect((await get('/flags/service', await cookieFor(ALICE, ORG_B))).body).toEqual({
        beta: true,
        all: ['beta'],
      });
      expect((await get('/flags/service')).body).toEqual({ beta: false, all: [] });
    });

    it('an anonymous request on an unguarded route sees no session', async () => {
      expect((await get('/me')).body).toEqual({
        userId: null,
        user: null,
        organizationId: null,
        source: null,
      });
    });

    it('switchOrganization moves the session and re-seals it', async () => {
      const res = await request(t.server)
        .post('/me/switch')
        .set('Cookie', `wos-session=${await cookieFor(ALICE, ORG_A)}`)
        .send({ organizationId: ORG_B });
      expect(res.body).toEqual({ organizationId: ORG_B });
      expect(payloadOf(sessionCookieFrom(res)!).organizationId).toBe(ORG_B);
    });

    it('refresh() keeps the organization', async () => {
      const res = await request(t.server)
        .post('/me/refresh')
        .set('Cookie', `wos-session=${await cookieFor(ALICE, ORG_B)}`);
      expect(res.body).toEqual({ organizationId: ORG_B });
    });

    it('signOut() builds the logout URL from sid even with an expired token, and clears the cookie', async () => {
      const session = await emulator.createSession({
        userId: ALICE,
        organizationId: ORG_B,
        accessTokenExpiresIn: -120,
      });
      emulator.fault('authenticate', { status: 500 }); // refresh cannot rescue it
      const res = await request(t.server)
        .post('/me/sign-out')
        .set('Cookie', `wos-session=${emulator.sealSession(session, COOKIE_PASSWORD)}`);
      const url = new URL(res.body.logoutUrl as string);
      expect(url.pathname).toBe('/user_management/sessions/logout');
      expect(url.searchParams.get('session_id')).toBe(session.sessionId);
      expect(url.searchParams.get('return_to')).toBe('http://app.test/bye');
      expect(setCookies(res).some((c) => /^wos-session=;/.test(c))).toBe(true);
    });

    it('AuthKitGuard requires a session; @Public() opts out', async () => {
      expect((await get('/guarded')).status).toBe(401);
      expect((await get('/guarded', await cookieFor(BOB, ORG_A))).body).toEqual({ userId: BOB });
      expect((await get('/guarded/open')).body).toEqual({ open: true });
    });

    it('accepts a cookie sealed by the SDK itself', async () => {
      const code = emulator.issueCode({ userId: ALICE, organizationId: ORG_B });
      const { sealedSession } = await workos.userManagement.authenticateWithCode({
        clientId: emulator.clientId,
        code,
        session: { sealSession: true, cookiePassword: COOKIE_PASSWORD },
      });
      const res = await get('/flags/beta', sealedSession!);
      expect(res.status).toBe(200);
      expect(res.body.organizationId).toBe(ORG_B);
    });

    it('never logs a token, refresh token, sealed cookie or cookie header', () => {
      const log = t.logger.lines.join('\n');
      expect(log).not.toMatch(/Fe26\.2\*/);
      expect(log).not.toMatch(/eyJ[\w-]+\.eyJ/); // a JWT
      expect(log).not.toMatch(/wos-session=/);
      expect(log).not.toMatch(/refresh_token_|rt_[A-Za-z0-9]{8}/);
    });
  });
});
