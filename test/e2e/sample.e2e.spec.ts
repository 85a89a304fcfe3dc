import { io, type Socket } from 'socket.io-client';
import request from 'supertest';
import { startSample, type RunningSample } from '../../sample/bootstrap.js';
import { FlagService } from '../../lib/index.js';
import { until } from './support/app.fixture.js';
import { ACME, GLOBEX } from '../../sample/demo-seed.js';

const ALICE = 'user_01ALICE';

/** The sample as `npm start` runs it with no WorkOS account: emulator in-process. */
describe('sample app in demo mode', () => {
  let sample: RunningSample;
  let cookiePassword: string;

  beforeAll(async () => {
    cookiePassword = 'sample-e2e-cookie-password-long-enough-123';
    sample = await startSample({
      port: 0,
      logger: false,
      env: { WORKOS_COOKIE_PASSWORD: cookiePassword },
    });
  });
  afterAll(() => sample.close());

  const server = () => sample.app.getHttpServer() as Parameters<typeof request>[0];

  async function cookieFor(organizationId: string): Promise<string> {
    const emulator = sample.demo!.emulator;
    const session = await emulator.createSession({ userId: ALICE, organizationId });
    return `wos-session=${emulator.sealSession(session, cookiePassword)}`;
  }

  it('serves a signed-out home page with a sign-in link and the demo notes', async () => {
    const res = await request(server()).get('/');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/text\/html/);
    expect(res.text).toContain('href="/auth/login"');
    expect(res.text).toContain(`${sample.demo!.emulator.url}/_emulator/flags`);
  });

  it('shows who is signed in, the organization by name, and the flags in the token', async () => {
    const res = await request(server())
      .get('/')
      .set('Cookie', await cookieFor(ACME));
    expect(res.text).toContain('alice@example.com');
    expect(res.text).toMatch(/data-testid="org-name">Acme Corp</);
    expect(res.text).toMatch(/data-testid="token-flags"><span class="flag">beta<\/span>/);
    expect(res.text).toContain(`value="${GLOBEX}"`); // the organization switcher lists both
    // Token beside live evaluation: Acme has beta through an organization target.
    expect(res.text).toContain(
      '<tr data-testid="explain-beta"><td><code>beta</code></td><td>on</td><td>on</td><td>on</td><td>organization-target-on</td><td></td></tr>',
    );
  });

  it('who may do what: the members page needs members:manage in the session’s organization; the tenant route refuses another organization', async () => {
    const acme = await cookieFor(ACME);
    const page = await request(server()).get('/members').set('Cookie', acme);
    expect(page.status).toBe(200);
    expect(page.text).toContain('data-testid="member-user_01ALICE"');
    const globex = await request(server())
      .get('/members')
      .set('Cookie', await cookieFor(GLOBEX))
      .set('Accept', 'text/html');
    expect(globex.status).toBe(403);
    expect(globex.text).toContain('This page needs the permission members:manage');

    const own = await request(server()).get(`/api/orgs/${ACME}/reports`).set('Cookie', acme);
    expect([own.status, own.body.organizationId]).toEqual([200, ACME]);
    const other = await request(server()).get(`/api/orgs/${GLOBEX}/reports`).set('Cookie', acme);
    expect([other.status, other.body.reason]).toEqual([403, 'ORGANIZATION_MISMATCH']);
  });

  it('a browser without a session is sent to sign in, and back to the page afterwards', async () => {
    const res = await request(server()).get('/reports').set('Accept', 'text/html');
    expect(res.status).toBe(302);
    expect(res.headers.location).toBe('/auth/login?returnTo=%2Freports');
  });

  it('a browser missing the flag gets a page naming it; an API caller gets the JSON reason', async () => {
    const cookie = await cookieFor(GLOBEX);
    const page = await request(server())
      .get('/reports')
      .set('Cookie', cookie)
      .set('Accept', 'text/html');
    expect(page.status).toBe(403);
    expect(page.text).toContain('This page needs beta');
    const api = await request(server()).get('/api/reports').set('Cookie', cookie);
    expect(api.status).toBe(403);
    expect(api.body).toMatchObject({ reason: 'FLAG_DISABLED', flags: ['beta'] });
  });

  it('a sign-in older than the security page allows: browsers are asked to sign in again (form posts too), API callers get the JSON reason', async () => {
    const emulator = sample.demo!.emulator;
    const session = await emulator.createSession({
      userId: ALICE,
      organizationId: GLOBEX,
      authenticatedSecondsAgo: 600,
    });
    const cookie = `wos-session=${emulator.sealSession(session, cookiePassword)}`;
    const again = `/auth/login?maxAge=300&amp;returnTo=%2Fsecurity&amp;organizationId=${GLOBEX}`;
    const agent = request(server());
    for (const refused of [agent.get('/security'), agent.post('/security')]) {
      const page = await refused.set('Cookie', cookie).set('Accept', 'text/html');
      expect(page.status).toBe(401);
      expect(page.text).toContain('data-testid="error-status">401 RECENT_AUTH_REQUIRED');
      expect(page.text).toContain(`href="${again}" data-testid="reauthenticate"`);
    }
    const api = await request(server()).post('/security').set('Cookie', cookie);
    expect([api.status, api.body.reason, api.body.maxAge]).toEqual([
      401,
      'RECENT_AUTH_REQUIRED',
      300,
    ]);
    expect(emulator.apiKeys()).toEqual([]);
  });

  it('the JSON API takes a Bearer token', async () => {
    const session = await sample.demo!.emulator.createSession({
      userId: ALICE,
      organizationId: ACME,
    });
    const res = await request(server())
      .get('/api/me')
      .set('Authorization', `Bearer ${session.accessToken}`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      userId: ALICE,
      organizationId: ACME,
      role: 'admin',
      featureFlags: ['beta'],
      source: 'bearer',
    });
    const anonymous = await request(server()).get('/api/me');
    expect(anonymous.status).toBe(401);
  });

  it('the usage route takes an organization API key with usage:read, a user token is held to the same permission, a revoked key is refused', async () => {
    const emulator = sample.demo!.emulator;
    const key = emulator.createApiKey({
      owner: { type: 'organization', id: ACME },
      permissions: ['usage:read'],
    });
    const ok = await request(server())
      .get('/api/usage')
      .set('Authorization', `Bearer ${key.value}`);
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ organizationId: ACME, credential: 'api-key' });

    const alice = await emulator.createSession({ userId: ALICE, organizationId: ACME });
    const user = await request(server())
      .get('/api/usage')
      .set('Authorization', `Bearer ${alice.accessToken}`);
    expect([user.status, user.body.reason]).toEqual([403, 'PERMISSION_DENIED']);

    // The emulator's signed api_key.revoked webhook drops the cached validation at once.
    emulator.revokeApiKey(key.id);
    await emulator.flushWebhooks();
    const revoked = await request(server())
      .get('/api/usage')
      .set('Authorization', `Bearer ${key.value}`);
    expect([revoked.status, revoked.body.reason]).toEqual([401, 'INVALID_API_KEY']);
  });

  it('GET /auth/login sends the browser to the emulator hosted login for this app', async () => {
    const res = await request(server()).get('/auth/login');
    const url = new URL(res.headers.location as string);
    expect(url.origin).toBe(sample.demo!.emulator.url);
    expect(url.searchParams.get('redirect_uri')).toBe(`${sample.url}auth/callback`);
    const hosted = await fetch(url);
    expect(hosted.status).toBe(200);
    expect(await hosted.text()).toContain('alice@example.com');
  });

  it('GraphQL: the guarded field and query answer for beta, refuse in the GraphQL idiom without it', async () => {
    const query = {
      query: '{ viewer { userId featureFlags betaReports { title } } reports { id } }',
    };
    const allowed = await request(server())
      .post('/graphql')
      .set('Cookie', await cookieFor(ACME))
      .send(query);
    expect(allowed.status).toBe(200);
    expect(allowed.body).toEqual({
      data: {
        viewer: { userId: ALICE, featureFlags: ['beta'], betaReports: [{ title: 'Q3 revenue' }] },
        reports: [{ id: 1 }],
      },
    });
    const denied = await request(server())
      .post('/graphql')
      .set('Cookie', await cookieFor(GLOBEX))
      .send({ query: '{ reports { id } }' });
    expect(denied.body.errors[0].extensions).toMatchObject({
      code: 'FORBIDDEN',
      reason: 'FLAG_DISABLED',
    });
    const anonymous = await request(server())
      .post('/graphql')
      .send({ query: '{ viewer { userId } }' });
    expect(anonymous.body.errors[0].extensions).toMatchObject({
      code: 'UNAUTHENTICATED',
      reason: 'NO_SESSION',
    });
  });

  describe('live channel (socket.io)', () => {
    const sockets: Socket[] = [];
    afterEach(() => {
      for (const socket of sockets.splice(0)) socket.disconnect();
    });
    const connect = (cookie?: string) => {
      const socket = io(`${sample.url}live`, {
        transports: ['websocket'],
        extraHeaders: cookie ? { cookie } : {},
        reconnection: false,
      });
      sockets.push(socket);
      return socket;
    };

    it('answers a signed-in socket with beta', async () => {
      const socket = connect(await cookieFor(ACME));
      await new Promise<void>((resolve) => socket.once('connect', resolve));
      const answer = await socket.timeout(5000).emitWithAck('reports', {});
      expect(answer).toMatchObject({ organizationId: ACME, reports: [{ id: 1 }] });
    });

    it('refuses a socket without beta with the reason, as an exception event', async () => {
      const socket = connect(await cookieFor(GLOBEX));
      await new Promise<void>((resolve) => socket.once('connect', resolve));
      const refusal = new Promise((resolve) => socket.once('exception', resolve));
      socket.emit('reports', {});
      expect(await refusal).toMatchObject({ reason: 'FLAG_DISABLED', statusCode: 403 });
    });

    it('tells an anonymous socket to re-authenticate, then disconnects it', async () => {
      const socket = connect();
      const told = new Promise((resolve) => socket.once('authkit:reauthenticate', resolve));
      const gone = new Promise((resolve) => socket.once('disconnect', resolve));
      expect(await told).toMatchObject({ reason: 'NO_SESSION', code: 4401 });
      expect(await gone).toBe('io server disconnect');
    });
  });

  // Near the end: the changes make Alice's sessions issued in the same second stale.
  it('role changed → the next request sees it; session revoked → signed out (signed webhooks from the emulator)', async () => {
    const emulator = sample.demo!.emulator;
    const session = await emulator.createSession({ userId: ALICE, organizationId: ACME });
    const cookie = `wos-session=${emulator.sealSession(session, cookiePassword)}`;
    expect((await request(server()).get('/members').set('Cookie', cookie)).status).toBe(200);

    emulator.setMembership(ALICE, ACME, { role: 'member', permissions: ['reports:read'] });
    await emulator.flushWebhooks();
    const demoted = await request(server()).get('/members').set('Cookie', cookie);
    expect([demoted.status, demoted.body.reason]).toEqual([403, 'PERMISSION_DENIED']);
    emulator.setMembership(ALICE, ACME, {
      role: 'admin',
      permissions: ['reports:read', 'members:manage'],
    });
    await emulator.flushWebhooks();

    emulator.revokeSession(session.sessionId);
    await emulator.flushWebhooks();
    const revoked = await request(server()).get('/api/me').set('Cookie', cookie);
    expect([revoked.status, revoked.body.reason]).toEqual([401, 'SESSION_REVOKED']);
  });

  // Last: the flag change makes every session of this app, issued in the same second, stale.
  it('token vs live: after a flag change the page shows the token the request arrived with, and why it was refreshed', async () => {
    const emulator = sample.demo!.emulator;
    const cookie = await cookieFor(GLOBEX);
    const flags = sample.app.get(FlagService);
    const changed = new Promise<void>((resolve) => {
      const stop = flags.onChange(() => {
        stop();
        resolve();
      });
    });
    const before = emulator.flags().find((f) => f.slug === 'beta')!;
    emulator.setFlag('beta', { orgRule: 'all' }); // widened from "Some: Acme" to "All"
    try {
      await changed; // the webhook, at once
      // The live configuration catches up at its next poll (≤ 5 s): the table's live column.
      await until(
        () =>
          flags.explain({ userId: ALICE, organizationId: GLOBEX }).find((e) => e.slug === 'beta')
            ?.live === true,
        10_000,
      );
      const res = await request(server()).get('/').set('Cookie', cookie);
      expect(res.text).toContain(
        '<tr data-testid="explain-beta"><td><code>beta</code></td><td>off</td><td>on</td><td>on</td><td>default-on</td><td><b>refreshed</b>: off → on</td></tr>',
      );
      expect(res.text).toMatch(
        /data-testid="refreshed">This request refreshed your session because a flag change affected it/,
      );
      // The browser keeps the refreshed cookie: the next request arrives with it.
      const renewed = (res.headers['set-cookie'] as unknown as string[])
        .find((c) => c.startsWith('wos-session='))!
        .split(';')[0];
      const again = await request(server()).get('/').set('Cookie', renewed);
      expect(again.text).not.toContain('data-testid="refreshed"');
      expect(again.text).toContain(
        '<tr data-testid="explain-beta"><td><code>beta</code></td><td>on</td><td>on</td><td>on</td><td>default-on</td><td></td></tr>',
      );
    } finally {
      emulator.setFlag('beta', before);
    }
  }, 20_000);
});
