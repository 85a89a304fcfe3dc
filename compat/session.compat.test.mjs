// Our session code against a peer nobody here wrote: the official emulator from the `workos`
// npm package, driven through the real @workos-inc/node client. Plain JS (no TS toolchain
// here), so the Nest controller is decorated by hand.
/* global fetch */
import 'reflect-metadata';
import { createRequire } from 'node:module';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Controller, Get, Inject, UseGuards } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import { createEmulator } from 'workos/emulate';
import { AuthKitGuard, AuthKitModule, SessionService } from '../dist/index.js';

// The SDK our library loads (the root's v11), not the v8 the `workos` CLI nests in
// compat/node_modules, which a bare `import '@workos-inc/node'` from here would pick up.
const fromRoot = createRequire(new URL('../package.json', import.meta.url));
const { WorkOS } = fromRoot('@workos-inc/node');
assert.match(fromRoot('@workos-inc/node/package.json').version, /^11\./);

const CLIENT_ID = 'client_compat';
const COOKIE_PASSWORD = 'compat-cookie-password-0123456789abcdef';
const EMAIL = 'ada@example.test';
const REDIRECT_URI = 'http://localhost:3000/callback'; // the emulator only redirects to localhost

class MeController {
  constructor(sessions) {
    this.sessions = sessions;
  }
  me() {
    const { userId, organizationId = null } = this.sessions.current();
    return { userId, organizationId };
  }
}
Inject(SessionService)(MeController, undefined, 0);
UseGuards(AuthKitGuard)(MeController);
Controller('me')(MeController);
Get()(MeController.prototype, 'me', Object.getOwnPropertyDescriptor(MeController.prototype, 'me'));

let emulator, workos, app, user, orgA, orgB;

before(async () => {
  emulator = await createEmulator({ port: 0 });
  workos = new WorkOS(emulator.apiKey, {
    clientId: CLIENT_ID,
    apiHostname: 'localhost',
    port: emulator.port,
    https: false,
    maxRetries: 0,
  });
  // Seeded through the emulator's own REST API: its `seed` option cannot link a seeded user
  // to a seeded organization (memberships need a user id, which is only made at insert).
  user = await workos.userManagement.createUser({ email: EMAIL });
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
        port: emulator.port,
        // No `issuer`: our default (the API base URL) is what the emulator signs (test 1).
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

/** AuthKit sign-in: the emulator's authorize endpoint approves at once and redirects with a code. */
async function signIn() {
  const url = workos.userManagement.getAuthorizationUrl({
    provider: 'authkit',
    clientId: CLIENT_ID,
    redirectUri: REDIRECT_URI,
    state: 'compat',
    loginHint: EMAIL,
  });
  const res = await fetch(url, { redirect: 'manual' });
  assert.equal(res.status, 302);
  const code = new URL(res.headers.get('location')).searchParams.get('code');
  assert.ok(code, `no code in ${res.headers.get('location')}`);
  return workos.userManagement.authenticateWithCode({
    clientId: CLIENT_ID,
    code,
    session: { sealSession: true, cookiePassword: COOKIE_PASSWORD },
  });
}

/** Signs in, then moves the session into org B (not the default); the SDK seals the cookie. */
async function signInToOrgB() {
  const { refreshToken } = await signIn();
  return workos.userManagement.authenticateWithRefreshToken({
    clientId: CLIENT_ID,
    refreshToken,
    organizationId: orgB.id,
    session: { sealSession: true, cookiePassword: COOKIE_PASSWORD },
  });
}

const claimsOf = (jwt) => JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString());

const getMe = (cookie) =>
  request(app.getHttpServer()).get('/me').set('Cookie', `wos-session=${cookie}`);

const sessionCookieIn = (res) =>
  [res.headers['set-cookie'] ?? []].flat().find((line) => line.startsWith('wos-session='));

/**
 * The emulator's access tokens live 3600 s, fixed (createEmulator takes no TTL). It runs in this
 * process, so moving Date.now on two hours expires its tokens for us and for it alike.
 */
function moveClockTwoHoursOn(t) {
  const realNow = Date.now;
  t.after(() => {
    Date.now = realNow;
  });
  Date.now = () => realNow() + 2 * 60 * 60 * 1000;
}

test('a code from the emulator becomes an SDK-sealed cookie; its tokens carry iss = emulator URL', async () => {
  const auth = await signIn();
  assert.match(auth.sealedSession, /^Fe26\.2\*/);
  const claims = claimsOf(auth.accessToken);
  assert.equal(claims.iss, emulator.url); // e.g. http://localhost:34959, our default issuer
  assert.equal(claims.sub, user.id);
  assert.equal(claims.org_id, undefined); // the code grant carries no organization
});

test('an SDK-sealed cookie reads as the right user and organization (JWKS + RS256)', async () => {
  const plain = await signIn();
  const res = await getMe(plain.sealedSession);
  assert.equal(res.status, 200);
  assert.deepEqual(res.body, { userId: user.id, organizationId: null });

  const inOrgB = await signInToOrgB();
  const resB = await getMe(inOrgB.sealedSession);
  assert.equal(resB.status, 200);
  assert.deepEqual(resB.body, { userId: user.id, organizationId: orgB.id });
});

test('an expired token is refreshed into its own (non-default) organization', async (t) => {
  const { sealedSession, accessToken } = await signInToOrgB();
  moveClockTwoHoursOn(t);

  const res = await getMe(sealedSession);
  assert.equal(res.status, 200);
  assert.deepEqual(res.body, { userId: user.id, organizationId: orgB.id });
  const line = sessionCookieIn(res);
  assert.ok(line, 'a refreshed wos-session cookie was set');
  const fresh = decodeURIComponent(line.slice('wos-session='.length).split(';')[0]);
  const auth = await workos.userManagement
    .loadSealedSession({ sessionData: fresh, cookiePassword: COOKIE_PASSWORD })
    .authenticate();
  assert.equal(auth.authenticated, true);
  assert.equal(auth.organizationId, orgB.id);
  assert.equal(auth.user.id, user.id);
  assert.notEqual(auth.accessToken, accessToken);
});

test('the emulator refuses a reused refresh token: 400 { code: "invalid_grant" }', async () => {
  const { refreshToken } = await signIn();
  await workos.userManagement.authenticateWithRefreshToken({ clientId: CLIENT_ID, refreshToken });
  await assert.rejects(
    workos.userManagement.authenticateWithRefreshToken({ clientId: CLIENT_ID, refreshToken }),
    (error) => {
      // Not the OAuth `{ error: 'invalid_grant' }` WorkOS documents (an OauthException in the
      // SDK): a `code`, which SDK v11 throws as a GenericServerException.
      assert.equal(error.name, 'GenericServerException');
      assert.equal(error.status, 400);
      assert.equal(error.code, 'invalid_grant');
      assert.deepEqual(error.rawData, { message: 'Invalid refresh token', code: 'invalid_grant' });
      return true;
    },
  );
});

test('a cookie whose refresh token was spent elsewhere: 401 REFRESH_FAILED, cookie cleared', async (t) => {
  const { sealedSession, refreshToken } = await signInToOrgB();
  // Another device spends the refresh token first (not our module, so no reuse window applies).
  await workos.userManagement.authenticateWithRefreshToken({ clientId: CLIENT_ID, refreshToken });
  moveClockTwoHoursOn(t);

  const res = await getMe(sealedSession);
  assert.equal(res.status, 401);
  assert.equal(res.body.reason, 'REFRESH_FAILED');
  assert.match(sessionCookieIn(res) ?? '', /^wos-session=;/);
});
