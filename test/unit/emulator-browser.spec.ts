import { WorkOS } from '@workos-inc/node';
import { createHash, randomBytes } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { WorkOSEmulator, type EmulatorFlag } from '../../lib/testing/index.js';

const REDIRECT_URI = 'http://localhost:3000/auth/callback';

/** The emulator's hosted login, flags page and management API, through HTTP and the real SDK. */
describe('WorkOSEmulator pages and management API', () => {
  let emulator: WorkOSEmulator;
  let workos: WorkOS;

  beforeAll(async () => {
    emulator = await WorkOSEmulator.start({
      users: [
        { id: 'user_a', email: 'a@example.test' },
        { id: 'user_b', email: 'b@example.test' },
        { id: 'user_x', email: '<script>x</script>@example.test' },
      ],
      organizations: [
        { id: 'org_1', name: 'One' },
        { id: 'org_2', name: 'Two & Sons' },
      ],
      memberships: [
        { userId: 'user_a', organizationId: 'org_1', role: 'member' },
        { userId: 'user_a', organizationId: 'org_2', role: 'admin' },
        { userId: 'user_b', organizationId: 'org_2' },
      ],
      flags: [{ slug: 'beta', enabled: true, orgRule: 'some', organizations: ['org_2'] }],
      redirectUris: [REDIRECT_URI],
    });
    workos = new WorkOS(emulator.apiKey, { ...emulator.connection(), maxRetries: 0 });
  });
  afterAll(() => emulator.close());
  afterEach(() => emulator.clearFaults());

  function pkce() {
    const verifier = randomBytes(32).toString('base64url');
    return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
  }

  function authorizeUrl(extra: Record<string, string> = {}, challenge = pkce().challenge): string {
    return workos.userManagement.getAuthorizationUrl({
      provider: 'authkit',
      clientId: emulator.clientId,
      redirectUri: REDIRECT_URI,
      state: 'state-123',
      codeChallenge: challenge,
      codeChallengeMethod: 'S256',
      ...extra,
    });
  }

  /** Posts the hosted login's form for one button, as the browser would. */
  async function choose(url: string, userId: string, organizationId: string): Promise<Response> {
    const fields = new URLSearchParams(new URL(url).searchParams);
    fields.set('user_id', userId);
    fields.set('organization_id', organizationId);
    return fetch(`${emulator.url}/user_management/authorize/complete`, {
      method: 'POST',
      body: fields,
      redirect: 'manual',
    });
  }

  describe('hosted login', () => {
    it('lists one button per membership, escaped, titled by screen hint', async () => {
      const page = await fetch(authorizeUrl());
      expect(page.status).toBe(200);
      const html = await page.text();
      expect(html).toContain('<h1>Sign in</h1>');
      for (const id of ['sign-in-user_a-org_1', 'sign-in-user_a-org_2', 'sign-in-user_b-org_2']) {
        expect(html).toContain(`data-testid="${id}"`);
      }
      expect(html).toContain('Two &amp; Sons');
      expect(html).not.toContain('<script>x');
      expect(html).toContain('&lt;script&gt;x');
      const signUp = await (await fetch(authorizeUrl({ screenHint: 'sign-up' }))).text();
      expect(signUp).toContain('<h1>Create an account</h1>');
    });

    it('narrows to the requested organization and puts the login hint first', async () => {
      const html = await (
        await fetch(authorizeUrl({ organizationId: 'org_2', loginHint: 'b@example.test' }))
      ).text();
      expect(html).not.toContain('sign-in-user_a-org_1');
      expect(html.indexOf('sign-in-user_b-org_2')).toBeLessThan(
        html.indexOf('sign-in-user_a-org_2'),
      );
    });

    it('a chosen account gets a code bound to the PKCE challenge, in the chosen organization', async () => {
      const { verifier, challenge } = pkce();
      const url = authorizeUrl({}, challenge);
      const done = await choose(url, 'user_a', 'org_2');
      expect(done.status).toBe(302);
      const back = new URL(done.headers.get('location') ?? '');
      expect(`${back.origin}${back.pathname}`).toBe(REDIRECT_URI);
      expect(back.searchParams.get('state')).toBe('state-123');
      const code = back.searchParams.get('code') ?? '';

      await expect(
        workos.userManagement.authenticateWithCode({
          clientId: emulator.clientId,
          code,
          codeVerifier: 'not-the-verifier-but-long-enough-to-pass-the-sdk-checks-0000',
        }),
      ).rejects.toThrow();
      // The failed attempt used the code up, as WorkOS codes are single-use: start over.
      const again = await choose(url, 'user_a', 'org_2');
      const code2 = new URL(again.headers.get('location') ?? '').searchParams.get('code') ?? '';
      const signedIn = await workos.userManagement.authenticateWithCode({
        clientId: emulator.clientId,
        code: code2,
        codeVerifier: verifier,
      });
      expect(signedIn.organizationId).toBe('org_2');
      const claims = JSON.parse(
        Buffer.from(signedIn.accessToken.split('.')[1]!, 'base64url').toString(),
      ) as { org_id: string; feature_flags: string[] };
      expect(claims).toMatchObject({ org_id: 'org_2', feature_flags: ['beta'] });
    });

    it.each([
      ['an unknown client_id', 'client_id', 'client_other', 'unknown client_id'],
      ['a redirect_uri not registered', 'redirect_uri', 'https://evil.test/cb', 'not allowed'],
      ['a plain code challenge', 'code_challenge_method', 'plain', 'must be S256'],
      ['another response_type', 'response_type', 'token', 'response_type must be code'],
      ['another provider', 'provider', 'GoogleOAuth', 'provider=authkit'],
    ])('refuses %s with a 400 page naming it, on the page and on completion', async (...args) => {
      const [, name, value, problem] = args;
      const url = new URL(authorizeUrl());
      url.searchParams.set(name, value);
      const page = await fetch(url);
      expect(page.status).toBe(400);
      expect(page.headers.get('content-type')).toMatch(/^text\/html/);
      expect(await page.text()).toContain(problem);
      expect((await choose(url.href, 'user_a', 'org_1')).status).toBe(400);
    });

    it('a user without memberships signs in without an organization, unless one is asked for', async () => {
      const { verifier, challenge } = pkce();
      const html = await (await fetch(authorizeUrl({}, challenge))).text();
      expect(html).toContain('data-testid="sign-in-user_x"');
      const done = await choose(authorizeUrl({}, challenge), 'user_x', '');
      const code = new URL(done.headers.get('location') ?? '').searchParams.get('code') ?? '';
      const signedIn = await workos.userManagement.authenticateWithCode({
        clientId: emulator.clientId,
        code,
        codeVerifier: verifier,
      });
      expect(signedIn.user.id).toBe('user_x');
      expect(signedIn.organizationId).toBeUndefined();
      const narrowed = await (await fetch(authorizeUrl({ organizationId: 'org_2' }))).text();
      expect(narrowed).not.toContain('sign-in-user_x');
    });

    it('each button is a form carrying the query once, plus its own user and organization', async () => {
      const html = await (await fetch(authorizeUrl({ organizationId: 'org_2' }))).text();
      const forms = html.match(/<form [^>]*>[\s\S]*?<\/form>/g) ?? [];
      expect(forms).toHaveLength(2);
      for (const form of forms) {
        expect(form).toContain('action="/user_management/authorize/complete"');
        expect(form).toContain('name="state" value="state-123"');
        expect(form).toContain('name="code_challenge_method" value="S256"');
        expect(form.match(/name="organization_id"/g)).toHaveLength(1);
        expect(form).toContain('name="organization_id" value="org_2"');
        expect(form.match(/name="user_id"/g)).toHaveLength(1);
      }
    });

    it('omits state from the redirect when the request had none', async () => {
      const url = new URL(authorizeUrl());
      url.searchParams.delete('state');
      const done = await choose(url.href, 'user_b', 'org_2');
      expect(done.status).toBe(302);
      const back = new URL(done.headers.get('location') ?? '');
      expect([...back.searchParams.keys()]).toEqual(['code']);
    });

    it('reuseHostedSession: sign-ins keep the reused session’s auth_time until max_age is shorter than its age; then it is renewed', async () => {
      /** Signs in through the hosted login and reads the token's auth_time. */
      const authTime = async (extra: Record<string, string> = {}) => {
        const { verifier, challenge } = pkce();
        const done = await choose(authorizeUrl(extra, challenge), 'user_a', 'org_1');
        const code = new URL(done.headers.get('location') ?? '').searchParams.get('code') ?? '';
        const { accessToken } = await workos.userManagement.authenticateWithCode({
          clientId: emulator.clientId,
          code,
          codeVerifier: verifier,
        });
        const claims = JSON.parse(Buffer.from(accessToken.split('.')[1]!, 'base64url').toString());
        return (claims as { auth_time: number }).auth_time;
      };
      const now = () => Math.floor(Date.now() / 1000);
      emulator.reuseHostedSession(600);
      try {
        const reused = await authTime();
        expect(now() - reused).toBeGreaterThanOrEqual(600);
        expect(now() - reused).toBeLessThan(605);
        // max_age longer than the session's age: still the same sign-in.
        expect(await authTime({ maxAge: '3600' })).toBe(reused);
        // Shorter: the user authenticates again, and later sign-ins reuse that one.
        const fresh = await authTime({ maxAge: '300' });
        expect(now() - fresh).toBeLessThan(5);
        expect(await authTime()).toBe(fresh);
      } finally {
        emulator.reuseHostedSession(undefined);
      }
    });

    it('refuses a membership the user does not have', async () => {
      const res = await choose(authorizeUrl(), 'user_b', 'org_1');
      expect(res.status).toBe(400);
      expect(await res.text()).toContain('not a member');
    });
  });

  describe('flags page', () => {
    it('saves a rule from the form, tells listeners, and shows what each membership gets', async () => {
      const seen: EmulatorFlag[] = [];
      const stop = emulator.onFlagsChanged((flag) => seen.push(flag));
      const before = await (await fetch(`${emulator.url}/_emulator/flags`)).text();
      expect(before).toContain('data-testid="eval-user_a-org_1-beta">off');
      expect(before).toContain('data-testid="flag-beta-rule-some" checked');

      const saved = await fetch(`${emulator.url}/_emulator/flags/beta`, {
        method: 'POST',
        body: new URLSearchParams({ enabled: 'on', rule: 'all' }),
        redirect: 'manual',
      });
      expect(saved.status).toBe(303);
      expect(saved.headers.get('location')).toBe('/_emulator/flags');
      expect(emulator.flags()).toEqual([
        { slug: 'beta', enabled: true, orgRule: 'all', organizations: [] },
      ]);
      expect(seen).toHaveLength(1);
      const after = await (await fetch(`${emulator.url}/_emulator/flags`)).text();
      expect(after).toContain('data-testid="eval-user_a-org_1-beta">on');
      stop();
      emulator.setFlag('beta', { orgRule: 'some', organizations: ['org_2'] });
      expect(seen).toHaveLength(1);
    });

    it('refuses an unknown rule and leaves the flag alone', async () => {
      const res = await fetch(`${emulator.url}/_emulator/flags/beta`, {
        method: 'POST',
        body: new URLSearchParams({ rule: 'everyone' }),
      });
      expect(res.status).toBe(400);
      expect(emulator.flags()[0]).toMatchObject({ orgRule: 'some' });
    });

    it('takes JSON patches on PUT and refuses wrong types', async () => {
      const put = (body: unknown) =>
        fetch(`${emulator.url}/_emulator/flags/gamma`, {
          method: 'PUT',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify(body),
        });
      const ok = await put({ enabled: true, orgRule: 'some', organizations: ['org_1'] });
      expect(ok.status).toBe(200);
      expect(await ok.json()).toEqual({
        slug: 'gamma',
        enabled: true,
        orgRule: 'some',
        organizations: ['org_1'],
      });
      expect((await put({ enabled: 'yes' })).status).toBe(400);
      expect((await put({ organizations: [1] })).status).toBe(400);
      expect((await put(null)).status).toBe(400);
      expect(emulator.evaluateFlags('user_a', 'org_1')).toEqual(['gamma']);
    });

    it('renders one table row of controls per flag, with the test ids a browser test clicks', async () => {
      const html = await (await fetch(`${emulator.url}/_emulator/flags`)).text();
      expect(html).toContain('<tr data-testid="flag-beta">');
      expect(html).toContain('action="/_emulator/flags/beta"');
      expect(html).toMatch(/data-testid="flag-beta-enabled" checked/);
      expect(html).toMatch(/data-testid="flag-beta-rule-none">/);
      expect(html).toMatch(/data-testid="flag-beta-rule-all">/);
      expect(html).toMatch(/data-testid="flag-beta-org-org_1">/);
      expect(html).toMatch(/data-testid="flag-beta-org-org_2" checked/);
      expect(html).toContain('data-testid="flag-beta-save"');
      expect(html).toContain('data-testid="eval-user_b-org_2-beta">on');
      expect(html).toContain('data-testid="eval-user_a-org_1-gamma">on');
    });

    /** Submits the flags page's form for beta, as a browser does. */
    const post = (body: string) =>
      fetch(`${emulator.url}/_emulator/flags/beta`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        body,
        redirect: 'manual',
      });

    it('Some takes the checked organizations; an unchecked switch turns the flag off', async () => {
      const changed: EmulatorFlag[] = [];
      const stop = emulator.onFlagsChanged((flag) => changed.push(flag));
      try {
        expect((await post('enabled=on&rule=some&org=org_1&org=org_2')).status).toBe(303);
        expect(emulator.evaluateFlags('user_a', 'org_1')).toContain('beta');
        expect((await post('rule=some&org=org_2')).status).toBe(303);
        expect(emulator.evaluateFlags('user_b', 'org_2')).not.toContain('beta');
        expect(changed.map((f) => [f.enabled, f.organizations])).toEqual([
          [true, ['org_1', 'org_2']],
          [false, ['org_2']],
        ]);
        const missingRule = await post('enabled=on');
        expect(missingRule.status).toBe(400);
        const unknownOrg = await post('enabled=on&rule=some&org=org_9');
        expect(unknownOrg.status).toBe(400);
        expect(await unknownOrg.text()).toContain('unknown organization org_9');
        expect(changed).toHaveLength(2);
      } finally {
        stop();
        emulator.setFlag('beta', { enabled: true, orgRule: 'some', organizations: ['org_2'] });
      }
    });

    it('a JSON PUT tells listeners too; malformed JSON and paths are 400s', async () => {
      const changed: string[] = [];
      const stop = emulator.onFlagsChanged((flag) => changed.push(flag.slug));
      const put = (path: string, body: string) =>
        fetch(`${emulator.url}/_emulator/flags/${path}`, {
          method: 'PUT',
          headers: { 'Content-Type': 'application/json' },
          body,
        });
      try {
        expect((await put('gamma', '{"enabled":false}')).status).toBe(200);
        expect((await put('gamma', '{')).status).toBe(400);
        expect((await put('%E0%A4%A', '{}')).status).toBe(400);
        expect(changed).toEqual(['gamma']);
      } finally {
        stop();
      }
    });

    it('sets users and organizations off: they lose the flag under All; on and off at once is a 400', async () => {
      try {
        expect((await post('enabled=on&rule=all&user_off=user_a&org_off=org_2')).status).toBe(303);
        expect(emulator.flags()[0]).toMatchObject({
          usersOff: ['user_a'],
          organizationsOff: ['org_2'],
        });
        expect(emulator.evaluateFlags('user_a', 'org_1')).not.toContain('beta');
        expect(emulator.evaluateFlags('user_b', 'org_2')).not.toContain('beta');
        expect(emulator.evaluateFlags('user_x', 'org_1')).toContain('beta');
        const html = await (await fetch(`${emulator.url}/_emulator/flags`)).text();
        expect(html).toContain('data-testid="flag-beta-user-off-user_a" checked');
        expect(html).toContain('data-testid="flag-beta-org-off-org_2" checked');
        expect(html).toMatch(/data-testid="flag-beta-user-user_a">/);
        expect(html).toContain('data-testid="eval-user_a-org_1-beta">off');
        expect(html).toContain('data-testid="eval-user_b-org_2-beta">off');

        expect((await post('enabled=on&rule=all&user=user_a')).status).toBe(303);
        expect(emulator.flags()[0]).toMatchObject({ users: ['user_a'], usersOff: undefined });
        const both = await post('enabled=on&rule=all&user=user_a&user_off=user_a');
        expect(both.status).toBe(400);
        expect(await both.text()).toContain('user_a is targeted both on and off');
        const bothOrg = await post('enabled=on&rule=some&org=org_1&org_off=org_1');
        expect(bothOrg.status).toBe(400);
        expect((await post('enabled=on&rule=all&user_off=user_9')).status).toBe(400);
        const put = await fetch(`${emulator.url}/_emulator/flags/beta`, {
          method: 'PUT',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify({ usersOff: ['user_a'] }),
        });
        expect(put.status).toBe(400);
        expect(emulator.flags()[0]).toMatchObject({ users: ['user_a'], usersOff: undefined });
      } finally {
        emulator.setFlag('beta', {
          enabled: true,
          orgRule: 'some',
          organizations: ['org_2'],
          users: undefined,
        });
      }
    });
  });

  describe('index page', () => {
    it('lists users, organizations and memberships, escaped, and links to the flags', async () => {
      const res = await fetch(`${emulator.url}/_emulator`);
      expect(res.status).toBe(200);
      const html = await res.text();
      expect(html).toContain('href="/_emulator/flags"');
      expect(html).toContain('&lt;script&gt;x&lt;/script&gt;@example.test');
      expect(html).toMatch(/data-testid="organizations">.*One.*Two &amp; Sons/);
      expect(html).toContain(
        '<tr><td>b@example.test</td><td>Two &amp; Sons</td><td>member</td></tr>',
      );
    });
  });

  describe('management API through the SDK', () => {
    it('serves organizations and a user’s memberships with organization names', async () => {
      const org = await workos.organizations.getOrganization('org_2');
      expect(org).toMatchObject({ id: 'org_2', name: 'Two & Sons' });
      const list = await workos.userManagement.listOrganizationMemberships({ userId: 'user_a' });
      expect(list.data.map((m) => [m.organizationId, m.organizationName, m.role.slug])).toEqual([
        ['org_1', 'One', 'member'],
        ['org_2', 'Two & Sons', 'admin'],
      ]);
      const one = await workos.userManagement.listOrganizationMemberships({
        userId: 'user_b',
        organizationId: 'org_1',
      });
      expect(one.data).toEqual([]);
    });

    it('pages memberships by limit and cursor, filters by organization and status', async () => {
      const first = await workos.userManagement.listOrganizationMemberships({
        userId: 'user_a',
        limit: 1,
      });
      expect(first.data.map((m) => m.organizationId)).toEqual(['org_1']);
      expect(first.listMetadata).toEqual({ before: null, after: first.data[0]!.id });
      const second = await workos.userManagement.listOrganizationMemberships({
        userId: 'user_a',
        limit: 1,
        after: first.listMetadata.after!,
      });
      expect(second.data.map((m) => m.organizationId)).toEqual(['org_2']);
      expect(second.listMetadata).toEqual({ before: second.data[0]!.id, after: null });
      const back = await workos.userManagement.listOrganizationMemberships({
        userId: 'user_a',
        limit: 1,
        before: second.listMetadata.before!,
      });
      expect(back.data.map((m) => m.organizationId)).toEqual(['org_1']);

      const all = await workos.userManagement.listOrganizationMemberships({ userId: 'user_a' });
      expect(await all.autoPagination()).toHaveLength(2);
      const inOrg = await workos.userManagement.listOrganizationMemberships({
        organizationId: 'org_2',
        statuses: ['active'],
      });
      expect(inOrg.data.map((m) => [m.userId, m.status])).toEqual([
        ['user_a', 'active'],
        ['user_b', 'active'],
      ]);
      const inactive = await workos.userManagement.listOrganizationMemberships({
        userId: 'user_a',
        statuses: ['inactive'],
      });
      expect(inactive.data).toEqual([]);
    });

    it('refuses a membership query without user or organization, or with a bad limit', async () => {
      const headers = { Authorization: `Bearer ${emulator.apiKey}` };
      const base = `${emulator.url}/user_management/organization_memberships`;
      expect((await fetch(base, { headers })).status).toBe(422);
      expect((await fetch(`${base}?user_id=user_a&limit=0`, { headers })).status).toBe(422);
      expect((await fetch(`${base}?user_id=user_a&limit=101`, { headers })).status).toBe(422);
    });

    it('answers an unknown organization with 404', async () => {
      await expect(workos.organizations.getOrganization('org_9')).rejects.toMatchObject({
        status: 404,
      });
    });

    it('needs the API key', async () => {
      for (const path of [
        '/user_management/organization_memberships?user_id=user_a',
        '/organizations/org_1',
      ]) {
        const res = await fetch(`${emulator.url}${path}`);
        expect(res.status).toBe(401);
        const wrong = await fetch(`${emulator.url}${path}`, {
          headers: { Authorization: 'Bearer sk_test_other' },
        });
        expect(wrong.status).toBe(401);
      }
    });
  });

  describe('robustness', () => {
    it('answers a JSON body that is not an object with 400, not 500', async () => {
      for (const body of ['null', '3', '[]', '"x"', '{']) {
        const res = await fetch(`${emulator.url}/user_management/authenticate`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body,
        });
        expect(res.status).toBe(400);
      }
    });

    it('reads an oversized body to its end and answers 413', async () => {
      const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = httpRequest(
          `${emulator.url}/user_management/authenticate`,
          { method: 'POST', headers: { 'Content-Type': 'application/json' } },
          (res) => {
            let body = '';
            res.setEncoding('utf8');
            res.on('data', (chunk: string) => (body += chunk));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
          },
        );
        req.on('error', reject);
        // Written in pieces, as a streaming client would, past the cap.
        for (let i = 0; i < 17; i++) req.write(Buffer.alloc(64 * 1024, 0x20));
        req.end();
      });
      expect(answer).toEqual({ status: 413, body: '{"message":"Payload too large"}' });
      // At the cap exactly, the body is still parsed: `{}` padded, so a 401 for the missing client.
      const atCap = await fetch(`${emulator.url}/user_management/authenticate`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: '{}'.padEnd(1024 * 1024, ' '),
      });
      expect(atCap.status).toBe(401);
    });

    it('a refresh into a foreign organization is refused without spending the token', async () => {
      const session = await emulator.createSession({ userId: 'user_b' });
      await expect(
        workos.userManagement.authenticateWithRefreshToken({
          clientId: emulator.clientId,
          refreshToken: session.refreshToken,
          organizationId: 'org_1',
        }),
      ).rejects.toThrow();
      const ok = await workos.userManagement.authenticateWithRefreshToken({
        clientId: emulator.clientId,
        refreshToken: session.refreshToken,
      });
      expect(ok.organizationId).toBe('org_2');
    });

    it('a fault with times is gone once used up', async () => {
      emulator.fault('jwks', { status: 503, times: 2 });
      const jwks = `${emulator.url}/sso/jwks/${emulator.clientId}`;
      expect((await fetch(jwks)).status).toBe(503);
      expect((await fetch(jwks)).status).toBe(503);
      expect((await fetch(jwks)).status).toBe(200);
      emulator.fault('jwks', { status: 500 }); // a later fault is not blocked by a spent one
      expect((await fetch(jwks)).status).toBe(500);
      emulator.fault('jwks', { status: 500, times: 0 }); // nothing left to inject: removed
      expect((await fetch(jwks)).status).toBe(200);
    });

    it('takes the code grant as a form body too', async () => {
      const res = await fetch(`${emulator.url}/user_management/authenticate`, {
        method: 'POST',
        body: new URLSearchParams({
          grant_type: 'authorization_code',
          client_id: emulator.clientId,
          client_secret: emulator.apiKey,
          code: emulator.issueCode({ userId: 'user_b' }),
        }),
      });
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({ organization_id: 'org_2', user: { id: 'user_b' } });
    });

    it('close() does not wait for requests held in a fault delay', async () => {
      const other = await WorkOSEmulator.start();
      other.fault('jwks', { delayMs: 60_000, status: 200 });
      const pending = fetch(`${other.url}/sso/jwks/${other.clientId}`).catch(() => 'dropped');
      // Proceed once the request is inside the emulator, held by the delay.
      while (other.calls.jwks === 0) await new Promise((resolve) => setImmediate(resolve));
      await other.close(); // without the release this waits the full minute (test times out)
      await pending;
    });
  });
});

describe('WorkOSEmulator pages without registered redirect URIs, with hostile names', () => {
  let open: WorkOSEmulator;

  beforeAll(async () => {
    open = await WorkOSEmulator.start({
      users: [{ id: 'user_q', email: 'q@example.test' }],
      organizations: [{ id: 'org_"q', name: '<i>Org</i>' }],
      memberships: [{ userId: 'user_q', organizationId: 'org_"q' }],
      flags: [
        { slug: 'a<b>', enabled: false, orgRule: 'none', description: '<img src=x onerror=1>' },
      ],
    });
  });
  afterAll(() => open.close());

  function authorize(redirectUri: string): URL {
    const url = new URL(`${open.url}/user_management/authorize`);
    for (const [k, v] of Object.entries({
      client_id: open.clientId,
      redirect_uri: redirectUri,
      response_type: 'code',
      provider: 'authkit',
      state: 's 1&2',
    })) {
      url.searchParams.set(k, v);
    }
    return url;
  }

  it('appends code and state to a redirect_uri that has a query of its own', async () => {
    const url = authorize('http://localhost:4000/cb?next=%2Fhome');
    const fields = new URLSearchParams(url.searchParams);
    fields.set('user_id', 'user_q');
    fields.set('organization_id', 'org_"q');
    const done = await fetch(`${open.url}/user_management/authorize/complete`, {
      method: 'POST',
      body: fields,
      redirect: 'manual',
    });
    expect(done.status).toBe(302);
    const back = new URL(done.headers.get('location') ?? '');
    expect(`${back.origin}${back.pathname}`).toBe('http://localhost:4000/cb');
    expect([...back.searchParams.keys()]).toEqual(['next', 'code', 'state']);
    expect(back.searchParams.get('next')).toBe('/home');
    expect(back.searchParams.get('state')).toBe('s 1&2');
  });

  it.each(['/cb', 'javascript:alert(1)', 'ftp://example.test/cb', ''])(
    'refuses redirect_uri %j',
    async (redirectUri) => {
      const res = await fetch(authorize(redirectUri));
      expect(res.status).toBe(400);
      expect(await res.text()).toContain('absolute http(s) URL');
    },
  );

  it('escapes names, ids and echoed query parameters on the login page', async () => {
    const url = authorize('http://localhost:4000/cb');
    url.searchParams.set('"><script>alert(1)</script>', '"><b>x</b>');
    const html = await (await fetch(url)).text();
    expect(html).not.toMatch(/<script|<b>|<i>/);
    expect(html).toContain('&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).toContain('Continue as q@example.test · &lt;i&gt;Org&lt;/i&gt;');
    expect(html).toContain('data-testid="sign-in-user_q-org_&quot;q"');
    expect(html).toContain('name="state" value="s 1&amp;2"');
  });

  it('escapes the flags page, and a percent-encoded slug saves the flag it names', async () => {
    const html = await (await fetch(`${open.url}/_emulator/flags`)).text();
    expect(html).not.toMatch(/<img|<i>|<b>/);
    expect(html).toContain('&lt;img src=x onerror=1&gt;');
    expect(html).toContain('action="/_emulator/flags/a%3Cb%3E"');
    expect(html).toContain('data-testid="flag-a&lt;b&gt;-org-org_&quot;q"');
    expect(html).toContain('data-testid="eval-user_q-org_&quot;q-a&lt;b&gt;">off');
    const saved = await fetch(`${open.url}/_emulator/flags/a%3Cb%3E`, {
      method: 'POST',
      body: new URLSearchParams([
        ['enabled', 'on'],
        ['rule', 'some'],
        ['org', 'org_"q'],
      ]),
      redirect: 'manual',
    });
    expect(saved.status).toBe(303);
    expect(open.evaluateFlags('user_q', 'org_"q')).toEqual(['a<b>']);
  });
});
