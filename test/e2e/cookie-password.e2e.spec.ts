import { sealData, unsealData } from 'iron-session';
import request from 'supertest';
import type { WorkOSEmulator } from '../../lib/testing/index.js';
import { sessionCookieFrom, startApp, type Platform, type TestApp } from './support/app.fixture.js';
import { ALICE, ORG_B, startSeededEmulator } from './support/seed.js';

const OLD = 'old-e2e-cookie-password-long-enough-11111111';
const NEW = 'new-e2e-cookie-password-long-enough-22222222';
const ROTATED = { 2: NEW, 1: OLD };

describe.each<Platform>(['express', 'fastify'])('cookie password rotation on %s', (platform) => {
  let emulator: WorkOSEmulator;
  let t: TestApp;

  beforeAll(async () => {
    emulator = await startSeededEmulator();
    t = await startApp(platform, emulator, { cookiePassword: ROTATED });
  });
  afterAll(async () => {
    await t.close();
    await emulator.close();
  });

  /** The cookie payload @workos-inc/node writes, for a live emulator session. */
  async function sessionData(accessTokenExpiresIn?: number) {
    const session = await emulator.createSession({
      userId: ALICE,
      organizationId: ORG_B,
      accessTokenExpiresIn,
    });
    return {
      accessToken: session.accessToken,
      refreshToken: session.refreshToken,
      user: session.user,
      organizationId: session.organizationId,
    };
  }
  const me = (cookie: string) =>
    request(t.server).get('/me').set('Cookie', `wos-session=${cookie}`);

  it('issue 10.13: a cookie sealed by iron-session with { 2: new, 1: old } (id 2) is accepted', async () => {
    const sealed = await sealData(await sessionData(), { password: ROTATED });
    expect(sealed.startsWith('Fe26.2*2*')).toBe(true);
    const res = await me(sealed);
    expect([res.status, res.body.userId, res.body.source]).toEqual([200, ALICE, 'cookie']);
  });

  it('issue 10.13: a cookie sealed with the old password (id 1) is still read, and a refresh rewrites it with id 2', async () => {
    const before = emulator.calls.refresh;
    const old = emulator.sealSession(
      { ...(await sessionData(-120)), sessionId: 'unused' },
      OLD, // a plain string seals as id 1, as the SDK and authkit-nextjs write it
    );
    expect(old.startsWith('Fe26.2*1*')).toBe(true);
    const res = await me(old);
    expect([res.status, res.body.userId]).toEqual([200, ALICE]);
    expect(emulator.calls.refresh - before).toBe(1);
    const rewritten = sessionCookieFrom(res)!;
    expect(rewritten.startsWith('Fe26.2*2*')).toBe(true);
    // The rewritten cookie is read again without another refresh.
    const again = await me(rewritten);
    expect([again.status, again.body.userId]).toEqual([200, ALICE]);
    expect(emulator.calls.refresh - before).toBe(1);
  });

  it('issue 10.13: iron-session unseals what we seal with the rotated set', async () => {
    const current = await sealData(await sessionData(), { password: ROTATED });
    const res = await request(t.server).post('/me/refresh').set('Cookie', `wos-session=${current}`);
    expect(res.status).toBe(200);
    const ours = sessionCookieFrom(res)!;
    const opened = await unsealData<{ refreshToken?: string; user?: { id: string } }>(ours, {
      password: ROTATED,
    });
    expect(opened.user?.id).toBe(ALICE);
    expect(typeof opened.refreshToken).toBe('string');
  });

  it('issue 10.13: a cookie sealed with a password id the app does not know is 401 INVALID_SESSION (unknown_password)', async () => {
    const foreign = await sealData(await sessionData(), {
      password: { 3: 'a-password-this-app-never-had-0123456789' },
    });
    const res = await me(foreign);
    // /me is open: no session, no error; a guarded route says why.
    expect(res.body.userId).toBeNull();
    const guarded = await request(t.server).get('/guarded').set('Cookie', `wos-session=${foreign}`);
    expect([guarded.status, guarded.body.reason, guarded.body.message]).toEqual([
      401,
      'INVALID_SESSION',
      'cookie unknown_password',
    ]);
  });
});
