import request from 'supertest';
import { startSignIn } from '../../lib/auth/sign-in.state.js';
import { unseal } from '../../lib/session/iron.js';
import type { WorkOSEmulator } from '../../lib/testing/index.js';
import type { SignInErrorEvent, SignInSuccessEvent } from '../../lib/index.js';
import {
  COOKIE_PASSWORD,
  cookieFrom,
  sessionCookieFrom,
  setCookies,
  startApp,
  type Platform,
  type TestApp,
} from './support/app.fixture.js';
import { ALICE, BOB, ORG_A, ORG_B, startSeededEmulator } from './support/seed.js';

const ORIGIN = 'https://app.example.test';
const REDIRECT_URI = `${ORIGIN}/auth/callback`;
const STATE = 'wos-auth-state';

interface StartedLogin {
  /** The `Cookie` header value carrying the state cookie. */
  stateCookie: string;
  state: string;
  codeChallenge: string;
  authorizeUrl: URL;
}

describe.each<Platform>(['express', 'fastify'])('auth routes on %s', (platform) => {
  let emulator: WorkOSEmulator;
  let t: TestApp;
  const provisioned: SignInSuccessEvent[] = [];
  const refused: SignInErrorEvent[] = [];
  let onSuccessMode: 'record' | 'redirect' | 'throw' = 'record';

  beforeAll(async () => {
    emulator = await startSeededEmulator();
    t = await startApp(platform, emulator, {
      routes: true,
      redirectUri: REDIRECT_URI,
      signIn: {
        trustedOrigins: ['http://localhost:5173'],
        callback: {
          onSuccess: (event) => {
            if (onSuccessMode === 'throw') throw new Error('provisioning failed');
            provisioned.push(event);
            return onSuccessMode === 'redirect' ? { returnTo: '/welcome' } : undefined;
          },
          onError: (event) => {
            refused.push(event);
            return event.reason === 'AUTHORIZATION_DENIED'
              ? { redirectTo: '/signin-error' }
              : undefined;
          },
        },
      },
    });
  });
  afterAll(async () => {
    await t.close();
    await emulator.close();
  });
  afterEach(() => {
    emulator.clearFaults();
    onSuccessMode = 'record';
    provisioned.length = 0;
    refused.length = 0;
  });

  async function startLogin(query = ''): Promise<StartedLogin> {
    const res = await request(t.server).get(`/auth/login${query}`);
    expect(res.status).toBe(302);
    const authorizeUrl = new URL(res.headers.location as string);
    const value = cookieFrom(res, STATE);
    if (!value) throw new Error('no state cookie');
    return {
      stateCookie: `${STATE}=${value}`,
      state: authorizeUrl.searchParams.get('state') ?? '',
      codeChallenge: authorizeUrl.searchParams.get('code_challenge') ?? '',
      authorizeUrl,
    };
  }

  /** What the hosted login does once the user picks an account: a code bound to the challenge. */
  function codeFor(login: StartedLogin, userId = ALICE, organizationId: string = ORG_B): string {
    return emulator.issueCode({ userId, organizationId, codeChallenge: login.codeChallenge });
  }

  const callback = (query: Record<string, string>, cookie?: string) => {
    const req = request(t.server).get(`/auth/callback?${new URLSearchParams(query).toString()}`);
    return cookie === undefined ? req : req.set('Cookie', cookie);
  };

  async function signIn(userId = ALICE, organizationId: string = ORG_B): Promise<string> {
    const login = await startLogin();
    const res = await callback(
      { code: codeFor(login, userId, organizationId), state: login.state },
      login.stateCookie,
    );
    expect(res.status).toBe(302);
    const cookie = sessionCookieFrom(res);
    if (!cookie) throw new Error('no session cookie');
    return cookie;
  }

  function expectStateCookieCleared(res: { headers: Record<string, unknown> }): void {
    expect(cookieFrom(res, STATE)).toBe('');
  }

  describe('GET /auth/login and /auth/signup', () => {
    it('maxAge (after RECENT_AUTH_REQUIRED) asks WorkOS to authenticate again: max_age; junk is ignored', async () => {
      const { authorizeUrl } = await startLogin('?maxAge=300&returnTo=/settings');
      expect(authorizeUrl.searchParams.get('max_age')).toBe('300');
      for (const junk of ['-1', '1e3', 'abc', '999999999', '']) {
        const { authorizeUrl: url } = await startLogin(`?maxAge=${junk}`);
        expect([junk, url.searchParams.has('max_age')]).toEqual([junk, false]);
      }
    });

    it('redirects to the hosted login with PKCE (S256) and a sealed, short-lived state cookie', async () => {
      const res = await request(t.server).get('/auth/login?returnTo=/reports');
      expect(res.status).toBe(302);
      expect(res.headers['cache-control']).toBe('no-store');
      const url = new URL(res.headers.location as string);
      expect(`${url.origin}${url.pathname}`).toBe(`${emulator.url}/user_management/authorize`);
      expect(Object.fromEntries(url.searchParams)).toMatchObject({
        client_id: emulator.clientId,
        redirect_uri: REDIRECT_URI,
        response_type: 'code',
        provider: 'authkit',
        code_challenge_method: 'S256',
        screen_hint: 'sign-in',
      });
      expect(url.searchParams.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/);
      const state = url.searchParams.get('state') ?? '';
      expect(state.length).toBeGreaterThanOrEqual(32);

      const line = setCookies(res).find((c) => c.startsWith(`${STATE}=`)) ?? '';
      expect(line).toMatch(/HttpOnly/i);
      expect(line).toMatch(/SameSite=Lax/i);
      expect(line).toMatch(/Max-Age=600/i);
      // The cookie is sealed: neither the verifier nor the state is readable in it.
      const value = cookieFrom(res, STATE) ?? '';
      expect(value.startsWith('Fe26.2*')).toBe(true);
      expect(value).not.toContain(state);
    });

    it('passes organizationId and loginHint, and signup asks for the sign-up screen', async () => {
      const res = await request(t.server).get(
        `/auth/signup?organizationId=${ORG_B}&loginHint=alice%40example.test`,
      );
      const url = new URL(res.headers.location as string);
      expect(url.searchParams.get('screen_hint')).toBe('sign-up');
      expect(url.searchParams.get('organization_id')).toBe(ORG_B);
      expect(url.searchParams.get('login_hint')).toBe('alice@example.test');
    });
  });

  describe('GET /auth/callback', () => {
    it('exchanges the code, seals the session and lands on returnTo, absolute, on our origin', async () => {
      const login = await startLogin('?returnTo=%2Freports%3Ftab%3D2%23top');
      const before = emulator.calls.code;
      const res = await callback({ code: codeFor(login), state: login.state }, login.stateCookie);
      expect(res.status).toBe(302);
      expect(res.headers.location).toBe(`${ORIGIN}/reports?tab=2#top`);
      expect(emulator.calls.code).toBe(before + 1);
      expectStateCookieCleared(res);

      const sealed = sessionCookieFrom(res) ?? '';
      const data = unseal(sealed, COOKIE_PASSWORD);
      expect(data.ok).toBe(true);
      expect(data.ok && data.data).toMatchObject({ organizationId: ORG_B, user: { id: ALICE } });
      const me = await request(t.server).get('/me').set('Cookie', `wos-session=${sealed}`);
      expect(me.body).toMatchObject({ userId: ALICE, organizationId: ORG_B, source: 'cookie' });
      expect(provisioned).toHaveLength(1);
      expect(provisioned[0]).toMatchObject({
        user: { id: ALICE, email: 'alice@example.test' },
        organizationId: ORG_B,
        returnTo: `${ORIGIN}/reports?tab=2#top`,
      });
    });

    it('a code issued for another PKCE challenge is refused by WorkOS: 400 CODE_REJECTED', async () => {
      const login = await startLogin();
      const code = emulator.issueCode({ userId: ALICE, codeChallenge: 'A'.repeat(43) });
      const res = await callback({ code, state: login.state }, login.stateCookie);
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ reason: 'CODE_REJECTED' });
      expect(sessionCookieFrom(res)).toBeUndefined();
      expectStateCookieCleared(res);
    });

    describe('SECURITY 22: state missing / mismatched / expired / replayed', () => {
      async function expectRefused(
        res: request.Response,
        reason: string,
        codeCallsBefore: number,
      ): Promise<void> {
        expect(res.status).toBe(400);
        expect(res.body).toMatchObject({ statusCode: 400, reason });
        expect(sessionCookieFrom(res)).toBeUndefined();
        // Refused before the code was ever sent to WorkOS.
        expect(emulator.calls.code).toBe(codeCallsBefore);
        expect(refused.at(-1)).toMatchObject({ reason, status: 400 });
      }

      it('no state parameter', async () => {
        const login = await startLogin();
        const before = emulator.calls.code;
        const res = await callback({ code: codeFor(login) }, login.stateCookie);
        await expectRefused(res, 'STATE_MISSING', before);
        expectStateCookieCleared(res);
      });

      it('no state cookie (another browser finishing the sign-in)', async () => {
        const login = await startLogin();
        const before = emulator.calls.code;
        const res = await callback({ code: codeFor(login), state: login.state });
        await expectRefused(res, 'STATE_MISSING', before);
      });

      it('state from another sign-in than the cookie (login CSRF)', async () => {
        const mine = await startLogin();
        const attackers = await startLogin();
        const before = emulator.calls.code;
        const res = await callback(
          { code: codeFor(attackers), state: attackers.state },
          mine.stateCookie,
        );
        await expectRefused(res, 'STATE_MISMATCH', before);
        expectStateCookieCleared(res);
      });

      it('a state cookie sealed with another password', async () => {
        const login = await startLogin();
        const forged = startSignIn(`${ORIGIN}/`, 'another-password-that-is-long-enough-000');
        const before = emulator.calls.code;
        const res = await callback(
          { code: codeFor(login), state: forged.state },
          `${STATE}=${forged.cookie}`,
        );
        await expectRefused(res, 'STATE_INVALID', before);
        expectStateCookieCleared(res);
      });

      it('an expired state (sign-in started 11 minutes ago)', async () => {
        const old = startSignIn(`${ORIGIN}/`, COOKIE_PASSWORD, Date.now() - 11 * 60_000);
        const code = emulator.issueCode({ userId: ALICE, codeChallenge: old.codeChallenge });
        const before = emulator.calls.code;
        const res = await callback({ code, state: old.state }, `${STATE}=${old.cookie}`);
        await expectRefused(res, 'STATE_EXPIRED', before);
        expectStateCookieCleared(res);
      });

      it('a replayed callback (same URL, same cookie)', async () => {
        const login = await startLogin();
        const query = { code: codeFor(login), state: login.state };
        const first = await callback(query, login.stateCookie);
        expect(first.status).toBe(302);
        const before = emulator.calls.code;
        const second = await callback(query, login.stateCookie);
        await expectRefused(second, 'STATE_REPLAYED', before);
        expectStateCookieCleared(second);
      });
    });

    describe('SECURITY 21: returnTo never leaves our origin', () => {
      it.each([
        'https://evil.com',
        '//evil.com',
        '/\\evil.com',
        '\\\\evil.com',
        '/\t/evil.com',
        '  //evil.com',
        '/..//evil.com',
        'javascript:alert(1)',
        'https://app.example.test@evil.com/',
        `${ORIGIN}.evil.com/`,
      ])('returnTo=%j', async (returnTo) => {
        const login = await startLogin(`?returnTo=${encodeURIComponent(returnTo)}`);
        const res = await callback({ code: codeFor(login), state: login.state }, login.stateCookie);
        expect(res.status).toBe(302);
        const location = res.headers.location as string;
        // Absolute, on our origin: home.
        expect(new URL(location).origin).toBe(ORIGIN);
        expect(location.startsWith(`${ORIGIN}/`)).toBe(true);
        expect(location).toBe(`${ORIGIN}/`);
      });

      it('keeps a same-origin absolute returnTo', async () => {
        const login = await startLogin(`?returnTo=${encodeURIComponent(`${ORIGIN}/a/b?c=d`)}`);
        const res = await callback({ code: codeFor(login), state: login.state }, login.stateCookie);
        expect(res.headers.location).toBe(`${ORIGIN}/a/b?c=d`);
      });
    });

    it('an error sent back by WorkOS goes through onError, which may choose a page on our origin', async () => {
      const login = await startLogin();
      const res = await callback(
        { error: 'access_denied', error_description: 'user cancelled', state: login.state },
        login.stateCookie,
      );
      expect(res.status).toBe(302);
      expect(res.headers.location).toBe(`${ORIGIN}/signin-error`);
      expect(refused.at(-1)).toMatchObject({ reason: 'AUTHORIZATION_DENIED' });
      expectStateCookieCleared(res);
    });

    it('WorkOS unreachable during the code exchange: 503 SIGN_IN_UNAVAILABLE, no cookie', async () => {
      const login = await startLogin();
      emulator.fault('authenticate', { status: 502 });
      const res = await callback({ code: codeFor(login), state: login.state }, login.stateCookie);
      expect(res.status).toBe(503);
      expect(res.body).toMatchObject({ reason: 'SIGN_IN_UNAVAILABLE' });
      expect(sessionCookieFrom(res)).toBeUndefined();
    });

    it('28: WorkOS answers the code exchange 200 without tokens: 503 SIGN_IN_UNAVAILABLE, no cookie', async () => {
      const login = await startLogin();
      emulator.fault('authenticate', { status: 200, body: { user: { id: ALICE } }, times: 1 });
      const res = await callback({ code: codeFor(login), state: login.state }, login.stateCookie);
      expect(res.status).toBe(503);
      expect(res.body).toMatchObject({ reason: 'SIGN_IN_UNAVAILABLE' });
      expect(sessionCookieFrom(res)).toBeUndefined();
    });

    it('onSuccess may redirect elsewhere on our origin (onboarding)', async () => {
      onSuccessMode = 'redirect';
      const login = await startLogin('?returnTo=/reports');
      const res = await callback({ code: codeFor(login), state: login.state }, login.stateCookie);
      expect(res.headers.location).toBe(`${ORIGIN}/welcome`);
      expect(sessionCookieFrom(res)).toBeTruthy();
    });

    it('onSuccess throwing refuses the sign-in: 500 ON_SUCCESS_FAILED and no session cookie', async () => {
      onSuccessMode = 'throw';
      const login = await startLogin();
      const res = await callback({ code: codeFor(login), state: login.state }, login.stateCookie);
      expect(res.status).toBe(500);
      expect(res.body).toMatchObject({ reason: 'ON_SUCCESS_FAILED' });
      expect(sessionCookieFrom(res)).toBeUndefined();
    });
  });

  describe('POST /auth/logout', () => {
    it('clears the cookie and sends the browser to WorkOS logout for the session (303)', async () => {
      const cookie = await signIn();
      const sid = (unseal(cookie, COOKIE_PASSWORD) as { ok: true; data: { accessToken: string } })
        .data.accessToken;
      const claims = JSON.parse(Buffer.from(sid.split('.')[1]!, 'base64url').toString()) as {
        sid: string;
      };
      const res = await request(t.server)
        .post('/auth/logout')
        .set('Origin', ORIGIN)
        .set('Cookie', `wos-session=${cookie}`);
      expect(res.status).toBe(303);
      const url = new URL(res.headers.location as string);
      expect(`${url.origin}${url.pathname}`).toBe(
        `${emulator.url}/user_management/sessions/logout`,
      );
      expect(url.searchParams.get('session_id')).toBe(claims.sid);
      expect(url.searchParams.get('return_to')).toBe(`${ORIGIN}/`);
      expect(sessionCookieFrom(res)).toBe('');
    });

    it('works with an expired access token, without refreshing it first', async () => {
      const session = await emulator.createSession({ userId: ALICE, accessTokenExpiresIn: -120 });
      const refreshes = emulator.calls.refresh;
      const res = await request(t.server)
        .post('/auth/logout')
        .set('Accept', 'application/json')
        .set('Cookie', `wos-session=${emulator.sealSession(session, COOKIE_PASSWORD)}`);
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ signedOut: true });
      expect(new URL(res.body.redirectTo as string).searchParams.get('session_id')).toBe(
        session.sessionId,
      );
      expect(emulator.calls.refresh).toBe(refreshes);
    });

    it('without a session it just goes home', async () => {
      const res = await request(t.server).post('/auth/logout').set('Origin', ORIGIN);
      expect(res.status).toBe(303);
      expect(res.headers.location).toBe(`${ORIGIN}/`);
    });
  });

  describe('POST /auth/switch-organization', () => {
    it('refreshes the session into the chosen organization and re-seals it', async () => {
      const cookie = await signIn(ALICE, ORG_A);
      const res = await request(t.server)
        .post('/auth/switch-organization')
        .set('Origin', ORIGIN)
        .set('Cookie', `wos-session=${cookie}`)
        .send({ organizationId: ORG_B });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ organizationId: ORG_B });
      const sealed = sessionCookieFrom(res) ?? '';
      const me = await request(t.server).get('/me').set('Cookie', `wos-session=${sealed}`);
      expect(me.body).toMatchObject({ userId: ALICE, organizationId: ORG_B });
    });

    it('a form post is answered with a 303 back to returnTo', async () => {
      const cookie = await signIn(ALICE, ORG_A);
      const res = await request(t.server)
        .post('/auth/switch-organization')
        .set('Origin', ORIGIN)
        .set('Cookie', `wos-session=${cookie}`)
        .type('form')
        .send({ organizationId: ORG_B, returnTo: '/settings' });
      expect(res.status).toBe(303);
      expect(res.headers.location).toBe(`${ORIGIN}/settings`);
    });

    it('an organization the user does not belong to: 403 NOT_A_MEMBER, refresh token untouched', async () => {
      const cookie = await signIn(BOB, ORG_A);
      const refreshes = emulator.calls.refresh;
      const res = await request(t.server)
        .post('/auth/switch-organization')
        .set('Origin', ORIGIN)
        .set('Cookie', `wos-session=${cookie}`)
        .send({ organizationId: ORG_B });
      expect(res.status).toBe(403);
      expect(res.body).toMatchObject({ reason: 'NOT_A_MEMBER' });
      expect(emulator.calls.refresh).toBe(refreshes);
      expect(sessionCookieFrom(res)).toBeUndefined();
    });

    it('without a session: 401 NO_SESSION', async () => {
      const res = await request(t.server)
        .post('/auth/switch-organization')
        .set('Origin', ORIGIN)
        .send({ organizationId: ORG_B });
      expect(res.status).toBe(401);
      expect(res.body).toMatchObject({ reason: 'NO_SESSION' });
    });
  });

  describe('SECURITY 23: cross-site POSTs are refused', () => {
    const crossSite: Array<[string, Record<string, string>]> = [
      ['a foreign Origin', { Origin: 'https://evil.com' }],
      ['Origin: null', { Origin: 'null' }],
      ['a look-alike Origin', { Origin: 'https://app.example.test.evil.com' }],
      ['Sec-Fetch-Site: cross-site', { 'Sec-Fetch-Site': 'cross-site' }],
      ['Sec-Fetch-Site: same-site', { 'Sec-Fetch-Site': 'same-site' }],
    ];
    it.each(crossSite)('logout with %s: 403, session kept', async (_, headers) => {
      const cookie = await signIn();
      const res = await request(t.server)
        .post('/auth/logout')
        .set(headers)
        .set('Cookie', `wos-session=${cookie}`);
      expect(res.status).toBe(403);
      expect(res.body).toMatchObject({ reason: 'CROSS_SITE_REQUEST' });
      expect(sessionCookieFrom(res)).toBeUndefined();
    });

    it.each(crossSite)('switch-organization with %s: 403, no refresh', async (_, headers) => {
      const cookie = await signIn(ALICE, ORG_A);
      const refreshes = emulator.calls.refresh;
      const res = await request(t.server)
        .post('/auth/switch-organization')
        .set(headers)
        .set('Cookie', `wos-session=${cookie}`)
        .send({ organizationId: ORG_B });
      expect(res.status).toBe(403);
      expect(res.body).toMatchObject({ reason: 'CROSS_SITE_REQUEST' });
      expect(emulator.calls.refresh).toBe(refreshes);
    });

    it('a trusted origin and a same-origin fetch are let through', async () => {
      const cookie = await signIn(ALICE, ORG_A);
      const trusted = await request(t.server)
        .post('/auth/switch-organization')
        .set('Origin', 'http://localhost:5173')
        .set('Cookie', `wos-session=${cookie}`)
        .send({ organizationId: ORG_B });
      expect(trusted.status).toBe(200);
      const sameOrigin = await request(t.server)
        .post('/auth/logout')
        .set('Sec-Fetch-Site', 'same-origin')
        .set('Cookie', `wos-session=${sessionCookieFrom(trusted) ?? ''}`);
      expect(sameOrigin.status).toBe(303);
    });
  });

  it('SECURITY 24: no code, token, verifier or sealed value reaches the logs', async () => {
    const login = await startLogin();
    const code = codeFor(login);
    await callback({ code, state: 'wrong' }, login.stateCookie);
    const ok = await callback({ code, state: login.state }, login.stateCookie);
    const sealed = sessionCookieFrom(ok) ?? '';
    const data = unseal(sealed, COOKIE_PASSWORD) as {
      ok: true;
      data: { accessToken: string; refreshToken: string };
    };
    const logs = t.logger.lines.join('\n');
    expect(t.logger.lines.some((line) => line.includes('STATE_MISMATCH'))).toBe(true);
    for (const secret of [
      code,
      login.state,
      data.data.accessToken,
      data.data.refreshToken,
      'Fe26.2*',
    ]) {
      expect(logs).not.toContain(secret);
    }
  });
});
