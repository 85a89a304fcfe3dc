import { WorkOS } from '@workos-inc/node';
import { createRemoteJWKSet, jwtVerify, type JWTPayload } from 'jose';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WorkOSEmulator } from '../../lib/testing/index.js';

const SECRET = 'whsec_emulator_access_spec';
const COOKIE_PASSWORD = 'emulator-access-spec-cookie-password-0123456789';

/** A webhook endpoint that keeps every raw body and its signature header, answering 200. */
async function startReceiver(): Promise<{
  url: string;
  received: Array<{ raw: string; signature: string }>;
  close: () => Promise<void>;
}> {
  const received: Array<{ raw: string; signature: string }> = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      received.push({
        raw: Buffer.concat(chunks).toString('utf8'),
        signature: String(req.headers['workos-signature'] ?? ''),
      });
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/webhooks/workos`,
    received,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** The fields a browser would post for the `<form>` holding `testId` (hidden inputs, select). */
function formOf(html: string, testId: string): { action: string; fields: URLSearchParams } {
  const form = (html.match(/<form [^>]*>[\s\S]*?<\/form>/g) ?? []).find((f) =>
    f.includes(`data-testid="${testId}"`),
  );
  if (!form) throw new Error(`no form with ${testId}`);
  const unescape = (v: string) =>
    v
      .replaceAll('&quot;', '"')
      .replaceAll('&#39;', "'")
      .replaceAll('&lt;', '<')
      .replaceAll('&gt;', '>')
      .replaceAll('&amp;', '&');
  const fields = new URLSearchParams();
  for (const [, name, value] of form.matchAll(
    /<input type="hidden" name="([^"]*)" value="([^"]*)"/g,
  )) {
    fields.append(unescape(name!), unescape(value!));
  }
  return { action: unescape(/action="([^"]*)"/.exec(form)![1]!), fields };
}

describe('WorkOSEmulator access model through the real SDK', () => {
  let emulator: WorkOSEmulator;
  let workos: WorkOS;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let claimsOf: (token: string) => Promise<JWTPayload & Record<string, unknown>>;

  beforeAll(async () => {
    receiver = await startReceiver();
    emulator = await WorkOSEmulator.start({
      users: [
        { id: 'user_a', email: 'a@example.test' },
        { id: 'user_b', email: 'b@example.test' },
        { id: 'user_c', email: 'c@example.test' },
      ],
      organizations: [
        { id: 'org_1', name: 'One', entitlements: ['pro'] },
        { id: 'org_2', name: 'Two' },
      ],
      memberships: [
        {
          userId: 'user_a',
          organizationId: 'org_1',
          roles: ['admin', 'billing'],
          permissions: ['reports:read'],
        },
        { userId: 'user_a', organizationId: 'org_2' },
        { userId: 'user_b', organizationId: 'org_1', role: 'member' },
        { userId: 'user_c', organizationId: 'org_1', role: 'member' },
      ],
      roles: [
        { slug: 'admin', permissions: ['users:manage', 'reports:read'] },
        { slug: 'billing', permissions: ['invoices:read'] },
      ],
      webhooks: { url: receiver.url, secret: SECRET },
    });
    workos = new WorkOS(emulator.apiKey, { ...emulator.connection(), maxRetries: 0 });
    const jwks = createRemoteJWKSet(new URL(`${emulator.url}/sso/jwks/${emulator.clientId}`));
    claimsOf = async (token) =>
      (await jwtVerify(token, jwks, { issuer: emulator.issuer, algorithms: ['RS256'] }))
        .payload as JWTPayload & Record<string, unknown>;
  });
  afterAll(async () => {
    await emulator.close();
    await receiver.close();
  });
  afterEach(() => emulator.clearFaults());

  /** Where the next test's events start: after every delivery still in flight. */
  async function mark(): Promise<number> {
    await emulator.flushWebhooks();
    return receiver.received.length;
  }

  const idOf = (event: { data: object }) => (event.data as { id?: string }).id;

  /** The events delivered since `from`, each verified and parsed by the SDK. */
  async function eventsSince(from: number) {
    await emulator.flushWebhooks();
    return Promise.all(
      receiver.received
        .slice(from)
        .map(({ raw, signature }) =>
          workos.webhooks.constructEvent({ payload: raw, sigHeader: signature, secret: SECRET }),
        ),
    );
  }

  const refresh = (refreshToken: string, organizationId?: string) =>
    workos.userManagement.authenticateWithRefreshToken({
      clientId: emulator.clientId,
      refreshToken,
      ...(organizationId ? { organizationId } : {}),
    });

  describe('claims', () => {
    it("carry roles (role = the first), the membership's permissions ∪ its roles', and the organization's entitlements", async () => {
      const signedIn = await workos.userManagement.authenticateWithCode({
        clientId: emulator.clientId,
        code: emulator.issueCode({ userId: 'user_a', organizationId: 'org_1' }),
      });
      expect(await claimsOf(signedIn.accessToken)).toMatchObject({
        org_id: 'org_1',
        role: 'admin',
        roles: ['admin', 'billing'],
        permissions: ['reports:read', 'users:manage', 'invoices:read'],
        entitlements: ['pro'],
      });
      const member = await emulator.createSession({ userId: 'user_b', organizationId: 'org_1' });
      expect(await claimsOf(member.accessToken)).toMatchObject({
        role: 'member',
        roles: ['member'],
        permissions: [],
        entitlements: ['pro'],
      });
      const elsewhere = await emulator.createSession({ userId: 'user_a', organizationId: 'org_2' });
      expect(await claimsOf(elsewhere.accessToken)).toMatchObject({
        role: 'member',
        entitlements: [],
      });
    });

    it('impersonation: act.sub is the impersonator’s email in every token, the refresh answer and the sealed cookie', async () => {
      const impersonator = { email: 'support@example.test', reason: 'ticket 42' };
      const session = await emulator.createSession({
        userId: 'user_b',
        organizationId: 'org_1',
        impersonator,
      });
      expect(session.impersonator).toEqual(impersonator);
      expect(await claimsOf(session.accessToken)).toMatchObject({
        sub: 'user_b',
        act: { sub: 'support@example.test' },
      });
      const auth = await workos.userManagement
        .loadSealedSession({
          sessionData: emulator.sealSession(session, COOKIE_PASSWORD),
          cookiePassword: COOKIE_PASSWORD,
        })
        .authenticate();
      expect(auth).toMatchObject({ authenticated: true, impersonator });
      const refreshed = await refresh(session.refreshToken, 'org_1');
      expect(refreshed.impersonator).toEqual(impersonator);
      expect(refreshed.authenticationMethod).toBe('Impersonation');
      expect(await claimsOf(refreshed.accessToken)).toMatchObject({
        act: { sub: 'support@example.test' },
      });
      expect(emulator.sessions().find((s) => s.id === session.sessionId)).toMatchObject({
        impersonator,
        status: 'active',
      });
      const plain = await emulator.createSession({ userId: 'user_b' });
      expect(await claimsOf(plain.accessToken)).not.toHaveProperty('act');
    });

    it('authenticatedSecondsAgo backdates auth_time, and a refresh keeps it', async () => {
      const session = await emulator.createSession({
        userId: 'user_b',
        authenticatedSecondsAgo: 900,
      });
      const now = Math.floor(Date.now() / 1000);
      const claims = await claimsOf(session.accessToken);
      expect(now - (claims.auth_time as number)).toBeGreaterThanOrEqual(900);
      expect(now - (claims.auth_time as number)).toBeLessThan(905);
      expect((claims.iat as number) - (claims.auth_time as number)).toBeGreaterThanOrEqual(899);
      const refreshed = await claimsOf((await refresh(session.refreshToken)).accessToken);
      expect(refreshed.auth_time).toBe(claims.auth_time);
    });
  });

  describe('changes', () => {
    it('a role change reaches the next refreshed token, sends organization_membership.updated, and the list shows it', async () => {
      const session = await emulator.createSession({ userId: 'user_b', organizationId: 'org_1' });
      const from = await mark();
      expect(emulator.setMembership('user_b', 'org_1', { role: 'admin' })).toEqual({
        userId: 'user_b',
        organizationId: 'org_1',
        role: 'admin',
      });
      const cookie = workos.userManagement.loadSealedSession({
        sessionData: emulator.sealSession(session, COOKIE_PASSWORD),
        cookiePassword: COOKIE_PASSWORD,
      });
      expect(await cookie.refresh()).toMatchObject({
        authenticated: true,
        organizationId: 'org_1',
        role: 'admin',
        roles: ['admin'],
        permissions: ['users:manage', 'reports:read'],
        entitlements: ['pro'],
      });
      const [event, ...rest] = await eventsSince(from);
      expect(rest).toEqual([]);
      expect(event).toMatchObject({
        event: 'organization_membership.updated',
        data: {
          object: 'organization_membership',
          id: 'om_user_b_org_1',
          userId: 'user_b',
          organizationId: 'org_1',
          organizationName: 'One',
          status: 'active',
          role: { slug: 'admin' },
          roles: [{ slug: 'admin' }],
          directoryManaged: false,
          customAttributes: {},
        },
      });
      const list = await workos.userManagement.listOrganizationMemberships({
        userId: 'user_b',
        organizationId: 'org_1',
      });
      expect(list.data.map((m) => m.role.slug)).toEqual(['admin']);
    });

    it("setRole changes a role's permissions for the next token (role.updated) and creates roles (role.created)", async () => {
      const session = await emulator.createSession({ userId: 'user_a', organizationId: 'org_1' });
      const from = await mark();
      emulator.setRole('billing', ['invoices:read', 'invoices:pay']);
      emulator.setRole('auditor', ['logs:read']);
      emulator.setMembership('user_a', 'org_1', { roles: ['admin', 'billing', 'auditor'] });
      const claims = await claimsOf((await refresh(session.refreshToken, 'org_1')).accessToken);
      expect(claims).toMatchObject({
        role: 'admin',
        roles: ['admin', 'billing', 'auditor'],
        permissions: ['reports:read', 'users:manage', 'invoices:read', 'invoices:pay', 'logs:read'],
      });
      const events = await eventsSince(from);
      expect(events.map((e) => e.event).sort()).toEqual([
        'organization_membership.updated',
        'role.created',
        'role.updated',
      ]);
      expect(events.find((e) => e.event === 'role.updated')?.data).toMatchObject({
        object: 'role',
        slug: 'billing',
        resourceTypeSlug: 'organization',
        permissions: ['invoices:read', 'invoices:pay'],
      });
      expect(emulator.roles().map((r) => r.slug)).toEqual(['admin', 'billing', 'auditor']);
    });

    it('setMembership creates a membership, an inactive or removed one cannot be refreshed into; created / updated / deleted events', async () => {
      const from = await mark();
      emulator.setMembership('user_b', 'org_2', { roles: ['viewer', 'member'] });
      const session = await emulator.createSession({ userId: 'user_b', organizationId: 'org_2' });
      expect(await claimsOf(session.accessToken)).toMatchObject({
        role: 'viewer',
        roles: ['viewer', 'member'],
      });
      emulator.setMembership('user_b', 'org_2', { status: 'inactive' });
      await expect(refresh(session.refreshToken, 'org_2')).rejects.toMatchObject({
        status: 400,
        error: 'invalid_grant',
      });
      const inactive = await workos.userManagement.listOrganizationMemberships({
        userId: 'user_b',
        statuses: ['inactive'],
      });
      expect(inactive.data.map((m) => [m.organizationId, m.status])).toEqual([
        ['org_2', 'inactive'],
      ]);
      expect(emulator.removeMembership('user_b', 'org_2')).toBe(true);
      expect(emulator.removeMembership('user_b', 'org_2')).toBe(false);
      const events = await eventsSince(from);
      const statusOf = (e: { data: object }) => (e.data as { status?: string }).status;
      expect(events.map((e) => [e.event, statusOf(e)]).sort()).toEqual(
        [
          ['organization_membership.created', 'active'],
          ['organization_membership.updated', 'inactive'],
          ['organization_membership.deleted', 'inactive'],
        ].sort(),
      );
      const all = await workos.userManagement.listOrganizationMemberships({
        organizationId: 'org_2',
        statuses: ['active', 'inactive', 'pending'],
      });
      expect(all.data.map((m) => m.userId)).toEqual(['user_a']);
      expect(() => emulator.setMembership('user_b', 'org_9')).toThrow(/unknown organization org_9/);
    });

    it('setEntitlements reaches the next token; WorkOS has no event for it, so none is sent', async () => {
      const session = await emulator.createSession({ userId: 'user_a', organizationId: 'org_2' });
      const from = await mark();
      emulator.setEntitlements('org_2', ['pro', 'sso']);
      const claims = await claimsOf((await refresh(session.refreshToken, 'org_2')).accessToken);
      expect(claims.entitlements).toEqual(['pro', 'sso']);
      expect(await eventsSince(from)).toEqual([]);
    });
  });

  describe('sessions', () => {
    it('revokeSession: the refresh token answers invalid_grant and a signed session.revoked names the sid', async () => {
      const session = await emulator.createSession({ userId: 'user_c', organizationId: 'org_1' });
      const from = await mark();
      expect(emulator.revokeSession(session.sessionId)).toBe(true);
      expect(emulator.revokeSession(session.sessionId)).toBe(false);
      await expect(refresh(session.refreshToken)).rejects.toMatchObject({
        status: 400,
        error: 'invalid_grant',
      });
      const events = await eventsSince(from);
      expect(events).toHaveLength(1);
      expect(events[0]).toMatchObject({
        event: 'session.revoked',
        data: {
          object: 'session',
          id: session.sessionId,
          userId: 'user_c',
          organizationId: 'org_1',
          status: 'revoked',
          authMethod: 'password',
        },
      });
      // SDK 11 hands timestamps over as strings, SDK 12 as Dates: both construct a Date.
      const data = events[0]!.data as { endedAt: string | Date | null; expiresAt: string | Date };
      expect(data.endedAt).not.toBeNull();
      expect(new Date(data.expiresAt).getTime()).toBeGreaterThan(Date.now());
      expect(emulator.sessions().find((s) => s.id === session.sessionId)?.status).toBe('revoked');
    });

    it("the SDK's userManagement.revokeSession revokes; unknown sessions 404, a missing id 422, a wrong key 401", async () => {
      const session = await emulator.createSession({ userId: 'user_c' });
      const from = await mark();
      await workos.userManagement.revokeSession({ sessionId: session.sessionId });
      await expect(refresh(session.refreshToken)).rejects.toMatchObject({
        error: 'invalid_grant',
      });
      expect((await eventsSince(from)).map((e) => [e.event, idOf(e)])).toEqual([
        ['session.revoked', session.sessionId],
      ]);
      await expect(
        workos.userManagement.revokeSession({ sessionId: 'session_unknown' }),
      ).rejects.toMatchObject({ status: 404 });
      const post = (body: unknown, key = emulator.apiKey) =>
        fetch(`${emulator.url}/user_management/sessions/revoke`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${key}` },
          body: JSON.stringify(body),
        });
      expect((await post({})).status).toBe(422);
      const other = await emulator.createSession({ userId: 'user_c' });
      expect((await post({ session_id: other.sessionId }, 'sk_test_wrong')).status).toBe(401);
      await refresh(other.refreshToken); // still alive
    });

    it('sign-out (the logout URL) revokes the session and sends session.revoked too', async () => {
      const session = await emulator.createSession({ userId: 'user_c', organizationId: 'org_1' });
      const from = await mark();
      const url = workos.userManagement.getLogoutUrl({
        sessionId: session.sessionId,
        returnTo: 'http://localhost:3000/',
      });
      const res = await fetch(url, { redirect: 'manual' });
      expect(res.status).toBe(302);
      await expect(refresh(session.refreshToken)).rejects.toMatchObject({
        error: 'invalid_grant',
      });
      expect((await eventsSince(from)).map((e) => [e.event, idOf(e)])).toEqual([
        ['session.revoked', session.sessionId],
      ]);
    });

    it('sessions() lists code-grant sessions too, following the organization a refresh switches to', async () => {
      const signedIn = await workos.userManagement.authenticateWithCode({
        clientId: emulator.clientId,
        code: emulator.issueCode({ userId: 'user_a', organizationId: 'org_1' }),
      });
      const sid = (await claimsOf(signedIn.accessToken)).sid as string;
      expect(emulator.sessions().find((s) => s.id === sid)).toMatchObject({
        userId: 'user_a',
        organizationId: 'org_1',
        status: 'active',
      });
      await refresh(signedIn.refreshToken, 'org_2');
      expect(emulator.sessions().find((s) => s.id === sid)?.organizationId).toBe('org_2');
    });
  });

  describe('API keys', () => {
    it('createValidation answers a live key (organization or user owned), null for unknown keys and the environment secret', async () => {
      const before = emulator.calls.apiKeyValidations;
      const from = await mark();
      const org = emulator.createApiKey({
        owner: { type: 'organization', id: 'org_1' },
        name: 'CI',
        permissions: ['reports:read'],
      });
      expect(org.value).toMatch(/^sk_test_[0-9a-f]{64}$/);
      const { apiKey } = await workos.apiKeys.createValidation({ value: org.value });
      expect(apiKey).toMatchObject({
        object: 'api_key',
        id: org.id,
        owner: { type: 'organization', id: 'org_1' },
        name: 'CI',
        obfuscatedValue: `sk_...${org.value.slice(-4)}`,
        permissions: ['reports:read'],
      });
      // A string in SDK 11, a Date in SDK 12.
      expect(new Date(apiKey!.lastUsedAt!).getTime()).toBeGreaterThan(Date.now() - 60_000);
      expect(Number.isNaN(new Date(apiKey!.createdAt).getTime())).toBe(false);

      const user = emulator.createApiKey({
        owner: { type: 'user', id: 'user_a', organizationId: 'org_1' },
      });
      expect((await workos.apiKeys.createValidation({ value: user.value })).apiKey?.owner).toEqual({
        type: 'user',
        id: 'user_a',
        organizationId: 'org_1',
      });

      for (const value of ['sk_test_unknown', emulator.apiKey, `${org.value}x`]) {
        expect(await workos.apiKeys.createValidation({ value })).toEqual({ apiKey: null });
      }
      expect(emulator.calls.apiKeyValidations - before).toBe(5);
      expect(emulator.apiKeys().map((k) => k.id)).toEqual(
        expect.arrayContaining([org.id, user.id]),
      );
      const created = await eventsSince(from);
      expect(created.map((e) => [e.event, idOf(e)])).toEqual(
        expect.arrayContaining([
          ['api_key.created', org.id],
          ['api_key.created', user.id],
        ]),
      );
      expect(
        receiver.received
          .slice(from)
          .map((r) => r.raw)
          .join(''),
      ).not.toContain(org.value.slice(8));
      expect(() =>
        emulator.createApiKey({ owner: { type: 'user', id: 'user_c', organizationId: 'org_2' } }),
      ).toThrow(/setMembership/);
    });

    it('a revoked key (revokeApiKey or DELETE /api_keys/:id) validates as null; api_key.revoked carries no value', async () => {
      const first = emulator.createApiKey({ owner: { type: 'organization', id: 'org_2' } });
      const second = emulator.createApiKey({ owner: { type: 'organization', id: 'org_2' } });
      const from = await mark();
      expect(emulator.revokeApiKey(first.id)).toBe(true);
      expect(emulator.revokeApiKey(first.id)).toBe(false);
      await workos.apiKeys.deleteApiKey(second.id);
      await expect(workos.apiKeys.deleteApiKey(second.id)).rejects.toMatchObject({ status: 404 });
      for (const { value } of [first, second]) {
        expect(await workos.apiKeys.createValidation({ value })).toEqual({ apiKey: null });
      }
      const events = await eventsSince(from);
      expect(events.map((e) => [e.event, idOf(e)])).toEqual(
        expect.arrayContaining([
          ['api_key.revoked', first.id],
          ['api_key.revoked', second.id],
        ]),
      );
      expect(events).toHaveLength(2);
      const raw = receiver.received
        .slice(from)
        .map((r) => r.raw)
        .join('');
      expect(raw).not.toContain(first.value.slice(8));
      expect(raw).not.toContain('"value"');
    });

    it('401 for a wrong caller key, 422 without a value, and the api-key-validations fault', async () => {
      const { value } = emulator.createApiKey({ owner: { type: 'organization', id: 'org_1' } });
      const wrong = new WorkOS('sk_test_wrong', { ...emulator.connection(), maxRetries: 0 });
      await expect(wrong.apiKeys.createValidation({ value })).rejects.toMatchObject({
        status: 401,
      });
      const res = await fetch(`${emulator.url}/api_keys/validations`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${emulator.apiKey}` },
        body: '{}',
      });
      expect(res.status).toBe(422);
      await expect(
        workos.apiKeys.createValidation({ value: 1 as unknown as string }),
      ).rejects.toMatchObject({ status: 422 });
      emulator.fault('api-key-validations', { status: 503, times: 1 });
      await expect(workos.apiKeys.createValidation({ value })).rejects.toMatchObject({
        status: 503,
      });
      expect((await workos.apiKeys.createValidation({ value })).apiKey).not.toBeNull();
    });
  });

  it('every kind of event arrives signed with the target secret: the SDK accepts each, and refuses another secret', async () => {
    const from = await mark();
    emulator.setFlag('gate', { enabled: true, orgRule: 'all' });
    emulator.setMembership('user_c', 'org_2', { role: 'member' });
    emulator.setRole('billing', ['invoices:read']);
    const key = emulator.createApiKey({ owner: { type: 'organization', id: 'org_2' } });
    emulator.revokeApiKey(key.id);
    emulator.revokeSession((await emulator.createSession({ userId: 'user_c' })).sessionId);
    emulator.removeMembership('user_c', 'org_2');
    const events = await eventsSince(from);
    expect(events.map((e) => e.event).sort()).toEqual([
      'api_key.created',
      'api_key.revoked',
      'flag.created',
      'organization_membership.created',
      'organization_membership.deleted',
      'role.updated',
      'session.revoked',
    ]);
    expect(new Set(events.map((e) => e.id)).size).toBe(events.length);
    for (const { raw, signature } of receiver.received.slice(from)) {
      await expect(
        workos.webhooks.constructEvent({
          payload: raw,
          sigHeader: signature,
          secret: 'whsec_other',
        }),
      ).rejects.toThrow(/signature/i);
    }
    expect(emulator.calls.webhooksFailed).toBe(0);
  });
});

describe('WorkOSEmulator members page', () => {
  let emulator: WorkOSEmulator;
  let workos: WorkOS;

  beforeAll(async () => {
    emulator = await WorkOSEmulator.start({
      users: [
        { id: 'user_a', email: 'a@example.test' },
        { id: 'user_"x', email: '<b>x</b>@example.test' },
      ],
      organizations: [
        { id: 'org_1', name: 'One' },
        { id: 'org_<2>', name: '<i>Two</i>' },
      ],
      memberships: [
        { userId: 'user_a', organizationId: 'org_1', role: 'member' },
        { userId: 'user_"x', organizationId: 'org_<2>', roles: ['<s>odd</s>'] },
      ],
      roles: [{ slug: 'owner', permissions: ['billing:manage'] }],
    });
    workos = new WorkOS(emulator.apiKey, { ...emulator.connection(), maxRetries: 0 });
  });
  afterAll(() => emulator.close());

  const page = async () => (await fetch(`${emulator.url}/_emulator/members`)).text();
  const submit = (action: string, fields: URLSearchParams, headers: Record<string, string> = {}) =>
    fetch(`${emulator.url}${action}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', ...headers },
      body: fields,
      redirect: 'manual',
    });

  it('lists memberships with their roles and effective permissions, escaped, linked from the index', async () => {
    const html = await page();
    expect(html).toContain('data-testid="member-user_a-org_1-roles">member</td>');
    expect(html).not.toMatch(/<b>|<i>|<s>/);
    expect(html).toContain('&lt;b&gt;x&lt;/b&gt;@example.test');
    expect(html).toContain('data-testid="member-user_&quot;x-org_&lt;2&gt;-roles">&lt;s&gt;odd');
    expect(html).toContain('<option value="owner">owner</option>');
    expect(html).toContain('<option value="member" selected>member</option>');
    expect(await (await fetch(`${emulator.url}/_emulator`)).text()).toContain(
      'href="/_emulator/members"',
    );
  });

  it("the role form changes the member's role: the next refreshed token carries it", async () => {
    const session = await emulator.createSession({ userId: 'user_a', organizationId: 'org_1' });
    const { action, fields } = formOf(await page(), 'member-user_a-org_1-save');
    expect(action).toBe('/_emulator/members/role');
    fields.set('role', 'owner'); // the select's choice
    const res = await submit(action, fields);
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/_emulator/members');
    const refreshed = await workos.userManagement.authenticateWithRefreshToken({
      clientId: emulator.clientId,
      refreshToken: session.refreshToken,
      organizationId: 'org_1',
    });
    const claims = JSON.parse(
      Buffer.from(refreshed.accessToken.split('.')[1]!, 'base64url').toString(),
    ) as { role: string; permissions: string[] };
    expect(claims).toMatchObject({ role: 'owner', permissions: ['billing:manage'] });
    const html = await page();
    expect(html).toContain('data-testid="member-user_a-org_1-permissions">billing:manage</td>');
    expect(html).toContain('<option value="owner" selected>owner</option>');
  });

  it('the hostile membership’s form posts its ids back intact', async () => {
    const { action, fields } = formOf(await page(), 'member-user_&quot;x-org_&lt;2&gt;-save');
    expect([fields.get('user_id'), fields.get('organization_id')]).toEqual(['user_"x', 'org_<2>']);
    fields.set('role', 'member');
    expect((await submit(action, fields)).status).toBe(303);
    const list = await workos.userManagement.listOrganizationMemberships({ userId: 'user_"x' });
    expect(list.data.map((m) => m.role.slug)).toEqual(['member']);
  });

  it('each active session has a Revoke button that kills its refresh token; then it shows revoked', async () => {
    const session = await emulator.createSession({ userId: 'user_a', organizationId: 'org_1' });
    const html = await page();
    expect(html).toContain(`<code>${session.sessionId}</code>`);
    const { action, fields } = formOf(html, `revoke-${session.sessionId}`);
    expect(action).toBe('/_emulator/sessions/revoke');
    expect((await submit(action, fields)).status).toBe(303);
    await expect(
      workos.userManagement.authenticateWithRefreshToken({
        clientId: emulator.clientId,
        refreshToken: session.refreshToken,
      }),
    ).rejects.toMatchObject({ error: 'invalid_grant' });
    const after = await page();
    expect(after).not.toContain(`data-testid="revoke-${session.sessionId}"`);
    expect(after).toMatch(new RegExp(`session-${session.sessionId}".*revoked`));
  });

  it('refuses unknown sessions, non-members and bad slugs with a 400 page', async () => {
    const revoke = await submit(
      '/_emulator/sessions/revoke',
      new URLSearchParams({ session_id: 'session_nope' }),
    );
    expect(revoke.status).toBe(400);
    expect(await revoke.text()).toContain('unknown session session_nope');
    const role = (fields: Record<string, string>) =>
      submit('/_emulator/members/role', new URLSearchParams(fields));
    const stranger = await role({ user_id: 'user_a', organization_id: 'org_<2>', role: 'owner' });
    expect(stranger.status).toBe(400);
    expect(await stranger.text()).toContain('user_a is not a member of org_&lt;2&gt;');
    expect((await role({ user_id: 'user_a', organization_id: 'org_1', role: '' })).status).toBe(
      400,
    );
    expect((await role({ user_id: 'user_a', organization_id: 'org_1', role: 'a b' })).status).toBe(
      400,
    );
  });

  it('refuses a cross-site form post (CSRF) on the members, sessions and flags forms; same-origin passes', async () => {
    const session = await emulator.createSession({ userId: 'user_a', organizationId: 'org_1' });
    const evil = { Origin: 'http://evil.test' };
    const posts: Array<[string, URLSearchParams]> = [
      [
        '/_emulator/members/role',
        new URLSearchParams({ user_id: 'user_a', organization_id: 'org_1', role: 'admin' }),
      ],
      ['/_emulator/sessions/revoke', new URLSearchParams({ session_id: session.sessionId })],
      ['/_emulator/flags/beta', new URLSearchParams({ enabled: 'on', rule: 'all' })],
    ];
    for (const [action, fields] of posts) {
      expect((await submit(action, fields, evil)).status).toBe(403);
      expect((await submit(action, fields, { 'Sec-Fetch-Site': 'cross-site' })).status).toBe(403);
    }
    expect(emulator.sessions().find((s) => s.id === session.sessionId)?.status).toBe('active');
    expect(emulator.flags()).toEqual([]);
    const same = { Origin: emulator.url, 'Sec-Fetch-Site': 'same-origin' };
    expect((await submit(posts[1]![0], posts[1]![1], same)).status).toBe(303);
    expect(emulator.sessions().find((s) => s.id === session.sessionId)?.status).toBe('revoked');
  });
});
