// Our session code against a peer nobody here wrote: the official emulator from the `workos`
// npm package, driven through the real @workos-inc/node client. Plain JS (no TS toolchain
// here), so the Nest controller is decorated by hand.
import 'reflect-metadata';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Controller, Get, Inject } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { WorkOS } from '@workos-inc/node';
import request from 'supertest';
import { createEmulator } from 'workos/emulate';
import { AuthKitModule, SessionService } from '../dist/index.js';

const COOKIE_PASSWORD = 'compat-cookie-password-0123456789abcdef';
const CLIENT_ID = 'client_compat';
const PASSWORD = 'correct horse battery staple 42';

class MeController {
  constructor(sessions) {
    this.sessions = sessions;
  }
  me() {
    const session = this.sessions.current();
    return session
      ? { userId: session.userId, organizationId: session.organizationId ?? null }
      : { userId: null };
  }
}
Inject(SessionService)(MeController, undefined, 0);
Controller('me')(MeController);
Get()(MeController.prototype, 'me', Object.getOwnPropertyDescriptor(MeController.prototype, 'me'));

let emulator;
let workos;
let app;
let user;
let orgA;
let orgB;

before(async () => {
  emulator = await createEmulator({ port: 0 });
  const port = Number(new URL(emulator.url).port);
  workos = new WorkOS(emulator.apiKey, {
    clientId: CLIENT_ID,
    apiHostname: 'localhost',
    port,
    https: false,
    maxRetries: 0,
  });
  user = await workos.userManagement.createUser({ email: 'ada@example.test', password: PASSWORD });
  orgA = await workos.organizations.createOrganization({ name: 'Default Org' });
  orgB = await workos.organizations.createOrganization({ name: 'Other Org' });
  for (const org of [orgA, orgB]) {
    await workos.userManagement.createOrganizationMembership({
      userId: user.id,
      organizationId: org.id,
    });
  }
  const moduleRef = await Test.createTestingModule({
    imports: [
      AuthKitModule.forRoot({
        clientId: CLIENT_ID,
        apiKey: emulator.apiKey,
        cookiePassword: COOKIE_PASSWORD,
        apiHostname: 'localhost',
        https: false,
        port,
      }),
    ],
    controllers: [MeController],
  }).compile();
  app = moduleRef.createNestApplication({ logger: false });
  await app.init();
});

after(async () => {
  await app?.close();
  await emulator?.close();
});

/**
 * The emulator's tokens live an hour (not configurable): move this process's clock, ours and
 * the emulator's alike, two hours on instead of waiting. Restored when the test ends.
 */
function moveClockTwoHoursOn(t) {
  const realNow = Date.now;
  t.after(() => {
    Date.now = realNow;
  });
  Date.now = () => realNow() + 2 * 60 * 60 * 1000;
}

const getMe = (cookie) =>
  request(app.getHttpServer()).get('/me').set('Cookie', `wos-session=${cookie}`);

/** Signs in with a password, then moves the session into org B; the SDK seals the cookie. */
async function sdkSessionInOrgB() {
  const signedIn = await workos.userManagement.authenticateWithPassword({
    clientId: CLIENT_ID,
    email: 'ada@example.test',
    password: PASSWORD,
  });
  return workos.userManagement.authenticateWithRefreshToken({
    clientId: CLIENT_ID,
    refreshToken: signedIn.refreshToken,
    organizationId: orgB.id,
    session: { sealSession: true, cookiePassword: COOKIE_PASSWORD },
  });
}

test('an SDK-sealed cookie with an official-emulator token reads as the right user and org', async () => {
  const { sealedSession } = await sdkSessionInOrgB();
  const res = await getMe(sealedSession);
  assert.equal(res.status, 200);
  assert.deepEqual(res.body, { userId: user.id, organizationId: orgB.id });
});

test('an expired token is refreshed in its own organization, and the SDK accepts our cookie', async (t) => {
  const { sealedSession } = await sdkSessionInOrgB();
  moveClockTwoHoursOn(t);

  const res = await getMe(sealedSession);
  assert.equal(res.status, 200);
  assert.deepEqual(res.body, { userId: user.id, organizationId: orgB.id });
  const line = [res.headers['set-cookie']].flat().find((c) => c?.startsWith('wos-session='));
  assert.ok(line, 'a refreshed cookie was set');
  const fresh = decodeURIComponent(line.slice('wos-session='.length).split(';')[0]);
  const auth = await workos.userManagement
    .loadSealedSession({ sessionData: fresh, cookiePassword: COOKIE_PASSWORD })
    .authenticate();
  assert.equal(auth.authenticated, true);
  assert.equal(auth.organizationId, orgB.id);
});

test('a reused refresh token is refused with invalid_grant', async () => {
  const first = await workos.userManagement.authenticateWithPassword({
    clientId: CLIENT_ID,
    email: 'ada@example.test',
    password: PASSWORD,
  });
  await workos.userManagement.authenticateWithRefreshToken({
    clientId: CLIENT_ID,
    refreshToken: first.refreshToken,
  });
  await assert.rejects(
    workos.userManagement.authenticateWithRefreshToken({
      clientId: CLIENT_ID,
      refreshToken: first.refreshToken,
    }),
    (error) => {
      assert.equal(error.status, 400);
      // Not the OAuth `{ error }` shape WorkOS documents: `{ code: 'invalid_grant' }`.
      assert.equal(error.rawData?.error ?? error.rawData?.code, 'invalid_grant');
      return true;
    },
  );
});

test('a cookie whose refresh token was spent elsewhere → 401 REFRESH_FAILED, cookie cleared', async (t) => {
  const { sealedSession, refreshToken } = await sdkSessionInOrgB();
  // Another device spends the refresh token first.
  await workos.userManagement.authenticateWithRefreshToken({ clientId: CLIENT_ID, refreshToken });
  moveClockTwoHoursOn(t);
  const res = await getMe(sealedSession);
  // /me is unguarded: the request goes on anonymously, but the dead cookie is cleared.
  assert.deepEqual(res.body, { userId: null });
  const cleared = [res.headers['set-cookie']].flat().find((c) => c?.startsWith('wos-session='));
  assert.match(cleared ?? '', /^wos-session=;/);
});
