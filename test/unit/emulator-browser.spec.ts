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
      ['an unknown client_id', (u: URL) => u.searchParams.set('client_id', 'client_other')],
      [
        'a redirect_uri not registered',
        (u: URL) => u.searchParams.set('redirect_uri', 'https://evil.test/cb'),
      ],
      ['a plain code challenge', (u: URL) => u.searchParams.set('code_challenge_method', 'plain')],
      ['another response_type', (u: URL) => u.searchParams.set('response_type', 'token')],
    ])('refuses %s with a 400 page, on the page and on completion', async (_, tamper) => {
      const url = new URL(authorizeUrl());
      tamper(url);
      expect((await fetch(url)).status).toBe(400);
      expect((await choose(url.href, 'user_a', 'org_1')).status).toBe(400);
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

    it('needs the API key', async () => {
      const res = await fetch(
        `${emulator.url}/user_management/organization_memberships?user_id=user_a`,
      );
      expect(res.status).toBe(401);
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
      const status = await new Promise<number>((resolve, reject) => {
        const req = httpRequest(
          `${emulator.url}/user_management/authenticate`,
          { method: 'POST', headers: { 'Content-Type': 'application/json' } },
          (res) => resolve(res.statusCode ?? 0),
        );
        req.on('error', reject);
        req.end(Buffer.alloc(1024 * 1024 + 10, 0x20));
      });
      expect(status).toBe(413);
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
