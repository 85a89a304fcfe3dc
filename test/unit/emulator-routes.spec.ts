import { createHash } from 'node:crypto';
import { WorkOSEmulator, type EmulatorRoute } from '../../lib/testing/index.js';
import type { Route } from '../../lib/testing/emulator/route-table.js';
import { ROUTE_AREAS } from '../../lib/testing/emulator/routes.js';

/** One request that a route must answer itself (not the router's 404, 400 or 401). */
interface Sample {
  method: string;
  path: string;
  headers?: Record<string, string>;
  body?: string;
  status: number;
}

const REDIRECT_URI = 'http://localhost:3000/auth/callback';
const ROUTES: readonly Route<never, string>[] = Object.values(ROUTE_AREAS).flat();
const METHODS = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH'];

/** `GET /organizations/:id` for a pattern route, so a sample can name the route it is for. */
function label(route: Route<never, string>): string {
  const path =
    typeof route.path === 'string'
      ? route.path
      : route.path.source
          .replace(/^\^|\$$/g, '')
          .replaceAll('\\/', '/')
          .replace(/\(\?<(\w+)>[^)]*\)/g, ':$1');
  return `${route.method} ${path}`;
}

function servedBy(route: Route<never, string>, path: string): boolean {
  return typeof route.path === 'string' ? route.path === path : route.path.test(path);
}

/** The WorkOS-shaped table, through HTTP: every route reachable, the rest refused as before. */
describe('WorkOSEmulator route table', () => {
  let emulator: WorkOSEmulator;
  let auth: Record<string, string>;

  beforeAll(async () => {
    emulator = await WorkOSEmulator.start({
      users: [{ id: 'user_a', email: 'a@example.test' }],
      organizations: [{ id: 'org_1', name: 'One' }],
      memberships: [{ userId: 'user_a', organizationId: 'org_1', role: 'member' }],
      flags: [{ slug: 'beta', enabled: true, orgRule: 'all' }],
      redirectUris: [REDIRECT_URI],
    });
    auth = { Authorization: `Bearer ${emulator.apiKey}` };
  });
  afterAll(() => emulator.close());
  afterEach(() => emulator.clearFaults());

  async function send(sample: Omit<Sample, 'status'>): Promise<Response> {
    return fetch(`${emulator.url}${sample.path}`, {
      method: sample.method,
      headers: sample.headers,
      body: sample.body,
      redirect: 'manual',
    });
  }

  const json = { 'Content-Type': 'application/json' };
  const form = { 'Content-Type': 'application/x-www-form-urlencoded' };
  const authorize = () =>
    new URLSearchParams({
      client_id: emulator.clientId,
      response_type: 'code',
      redirect_uri: REDIRECT_URI,
      code_challenge: createHash('sha256').update('verifier').digest('base64url'),
      code_challenge_method: 'S256',
    });

  /** A request each route answers itself, by route label; state each needs is made here. */
  const samples: Record<string, () => Promise<Sample>> = {
    '* /sso/jwks/': async () => ({
      method: 'GET',
      path: `/sso/jwks/${emulator.clientId}`,
      status: 200,
    }),
    'POST /user_management/authenticate': async () => {
      const session = await emulator.createSession({ userId: 'user_a' });
      return {
        method: 'POST',
        path: '/user_management/authenticate',
        headers: json,
        body: JSON.stringify({
          client_id: emulator.clientId,
          client_secret: emulator.apiKey,
          grant_type: 'refresh_token',
          refresh_token: session.refreshToken,
        }),
        status: 200,
      };
    },
    'GET /user_management/sessions/logout': async () => {
      const { sessionId } = await emulator.createSession({ userId: 'user_a' });
      return {
        method: 'GET',
        path: `/user_management/sessions/logout?session_id=${sessionId}`,
        status: 200,
      };
    },
    'GET /user_management/organization_memberships': async () => ({
      method: 'GET',
      path: '/user_management/organization_memberships?user_id=user_a',
      headers: auth,
      status: 200,
    }),
    'POST /user_management/sessions/revoke': async () => {
      const { sessionId } = await emulator.createSession({ userId: 'user_a' });
      return {
        method: 'POST',
        path: '/user_management/sessions/revoke',
        headers: { ...auth, ...json },
        body: JSON.stringify({ session_id: sessionId }),
        status: 200,
      };
    },
    'GET /user_management/users/:id': async () => ({
      method: 'GET',
      path: '/user_management/users/user_a',
      status: 200,
    }),
    'GET /user_management/authorize': async () => ({
      method: 'GET',
      path: `/user_management/authorize?${authorize()}`,
      status: 200,
    }),
    'POST /user_management/authorize/complete': async () => {
      const fields = authorize();
      fields.set('user_id', 'user_a');
      fields.set('organization_id', 'org_1');
      return {
        method: 'POST',
        path: '/user_management/authorize/complete',
        headers: form,
        body: fields.toString(),
        status: 302,
      };
    },
    'GET /organizations/:id': async () => ({
      method: 'GET',
      path: '/organizations/org_1',
      headers: auth,
      status: 200,
    }),
    '* /sdk/feature-flags': async () => ({
      method: 'GET',
      path: '/sdk/feature-flags',
      headers: auth,
      status: 200,
    }),
    'POST /_emulator/flags/:slug': async () => ({
      method: 'POST',
      path: '/_emulator/flags/beta',
      headers: form,
      body: 'rule=all&enabled=on',
      status: 303,
    }),
    'PUT /_emulator/flags/:slug': async () => ({
      method: 'PUT',
      path: '/_emulator/flags/beta',
      headers: json,
      body: JSON.stringify({ enabled: true }),
      status: 200,
    }),
    'POST /api_keys/validations': async () => ({
      method: 'POST',
      path: '/api_keys/validations',
      headers: { ...auth, ...json },
      body: JSON.stringify({ value: 'sk_test_unknown' }),
      status: 200,
    }),
    'DELETE /api_keys/:id': async () => {
      const { id } = emulator.createApiKey({ owner: { type: 'organization', id: 'org_1' } });
      return { method: 'DELETE', path: `/api_keys/${id}`, headers: auth, status: 204 };
    },
    'GET /_emulator': async () => ({ method: 'GET', path: '/_emulator', status: 200 }),
    'GET /_emulator/flags': async () => ({ method: 'GET', path: '/_emulator/flags', status: 200 }),
    'GET /_emulator/members': async () => ({
      method: 'GET',
      path: '/_emulator/members',
      status: 200,
    }),
    'POST /_emulator/members/role': async () => ({
      method: 'POST',
      path: '/_emulator/members/role',
      headers: form,
      body: 'user_id=user_a&organization_id=org_1&role=admin',
      status: 303,
    }),
    'POST /_emulator/sessions/revoke': async () => {
      const { sessionId } = await emulator.createSession({ userId: 'user_a' });
      return {
        method: 'POST',
        path: '/_emulator/sessions/revoke',
        headers: form,
        body: `session_id=${sessionId}`,
        status: 303,
      };
    },
  };

  it('has one sample per route, and no route hides another', () => {
    const labels = ROUTES.map(label);
    expect(new Set(labels).size).toBe(labels.length);
    expect([...labels].sort()).toEqual(Object.keys(samples).sort());
  });

  it.each(ROUTES.map(label))('%s is reachable and answers itself', async (name) => {
    const sample = await samples[name]!();
    // The sample is this route's, and no route before it in the table answers it instead.
    const path = new URL(sample.path, 'http://x').pathname;
    const first = ROUTES.find(
      (r) => servedBy(r, path) && (r.method === '*' || r.method === sample.method),
    );
    expect(first && label(first)).toBe(name);
    const res = await send(sample);
    expect(res.status).toBe(sample.status);
  });

  it.each(ROUTES.map(label))(
    '%s: a method no route serves on its path is a JSON 404, as an unknown path is',
    async (name) => {
      const sample = await samples[name]!();
      const path = new URL(sample.path, 'http://x').pathname;
      const served = ROUTES.filter((r) => servedBy(r, path)).map((r): string => r.method);
      const others = METHODS.filter((m) => !served.includes(m) && !served.includes('*'));
      for (const method of others) {
        const res = await send({
          method,
          path: sample.path,
          ...(method === 'POST' || method === 'PUT' ? { headers: json, body: '{}' } : {}),
        });
        expect([method, res.status, await res.json()]).toEqual([
          method,
          404,
          { message: 'Not found' },
        ]);
      }
      const unknown = await send({ method: 'GET', path: '/user_management/nothing-here' });
      expect([unknown.status, await unknown.json()]).toEqual([404, { message: 'Not found' }]);
    },
  );

  it('decodes path params once: malformed percent-encoding is a 400 for any method', async () => {
    const patterns = ROUTES.filter(
      (r) => typeof r.path !== 'string' && /\(\?</.test(r.path.source),
    );
    expect(patterns.length).toBeGreaterThan(0);
    for (const route of patterns) {
      const path = label(route).split(' ')[1]!.replace(/:\w+/, '%E0%A4%A');
      for (const method of ['GET', 'DELETE']) {
        const res = await send({ method, path });
        expect([path, method, res.status, await res.json()]).toEqual([
          path,
          method,
          400,
          { message: 'Malformed path' },
        ]);
      }
    }
  });

  it('refuses a route that needs the API key without it (401), each of them', async () => {
    const keyed = ROUTES.filter((r) => r.apiKey);
    expect(keyed.length).toBeGreaterThan(0);
    for (const route of keyed) {
      const sample = await samples[label(route)]!();
      const headers = Object.entries(sample.headers ?? {}).filter(([k]) => k !== 'Authorization');
      const res = await send({ ...sample, headers: Object.fromEntries(headers) });
      expect([label(route), res.status]).toEqual([label(route), 401]);
    }
  });

  it('counts and faults by endpoint name, whatever the method', async () => {
    const faulted = ROUTES.filter((r) => r.fault !== undefined);
    expect(faulted.map((r) => r.fault).sort()).toEqual([
      'api-key-validations',
      'authenticate',
      'jwks',
      'sdk-flags',
    ]);
    for (const route of faulted) {
      const sample = await samples[label(route)]!();
      emulator.fault(route.fault as EmulatorRoute, { status: 418, times: 1 });
      const res = await send({ method: 'PATCH', path: sample.path });
      expect([route.fault, res.status]).toEqual([route.fault, 418]);
    }
    const before = emulator.calls.authenticate;
    await send({ method: 'GET', path: '/user_management/authenticate' });
    expect(emulator.calls.authenticate).toBe(before + 1);
  });

  it('refuses cross-site posts to any admin path before routing', async () => {
    for (const path of ['/_emulator/members/role', '/_emulator/no-such-page']) {
      const res = await send({
        method: 'POST',
        path,
        headers: { ...form, Origin: 'http://evil.test' },
        body: 'user_id=user_a&organization_id=org_1&role=admin',
      });
      expect([path, res.status]).toEqual([path, 403]);
    }
  });
});
