import { WorkOS } from '@workos-inc/node';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { WorkOSEmulator, type EmulatorFlag } from '../../lib/testing/index.js';

const COOKIE_PASSWORD = 'emulator-spec-cookie-password-0123456789';

describe('WorkOSEmulator through the real SDK client', () => {
  let emulator: WorkOSEmulator;
  let workos: WorkOS;

  beforeAll(async () => {
    emulator = await WorkOSEmulator.start({
      users: [
        { id: 'user_a', email: 'a@example.test' },
        { id: 'user_b', email: 'b@example.test' },
      ],
      organizations: [
        { id: 'org_1', name: 'One' },
        { id: 'org_2', name: 'Two' },
      ],
      memberships: [
        { userId: 'user_a', organizationId: 'org_1', role: 'member' },
        { userId: 'user_a', organizationId: 'org_2', role: 'admin' },
        { userId: 'user_b', organizationId: 'org_2' },
      ],
      flags: [{ slug: 'beta', enabled: true, orgRule: 'some', organizations: ['org_2'] }],
    });
    workos = new WorkOS(emulator.apiKey, { ...emulator.connection(), maxRetries: 0 });
  });
  afterAll(() => emulator.close());
  afterEach(() => emulator.clearFaults());

  it('exchanges a code for tokens that verify against its JWKS with the issuer pinned', async () => {
    const res = await workos.userManagement.authenticateWithCode({
      clientId: emulator.clientId,
      code: emulator.issueCode({ userId: 'user_a', organizationId: 'org_2' }),
    });
    expect(res.user).toMatchObject({ id: 'user_a', email: 'a@example.test' });
    const jwks = createRemoteJWKSet(new URL(`${emulator.url}/sso/jwks/${emulator.clientId}`));
    const { payload } = await jwtVerify(res.accessToken, jwks, {
      issuer: emulator.issuer,
      algorithms: ['RS256'],
    });
    expect(payload).toMatchObject({ sub: 'user_a', org_id: 'org_2', feature_flags: ['beta'] });
    expect(typeof payload.sid).toBe('string');
  });

  it('rotates single-use refresh tokens; without organization_id it falls back to the first membership', async () => {
    const session = await emulator.createSession({ userId: 'user_a', organizationId: 'org_2' });
    const before = { ...emulator.calls };
    const kept = await workos.userManagement.authenticateWithRefreshToken({
      clientId: emulator.clientId,
      refreshToken: session.refreshToken,
      organizationId: 'org_2',
    });
    expect(kept.organizationId).toBe('org_2');
    await expect(
      workos.userManagement.authenticateWithRefreshToken({
        clientId: emulator.clientId,
        refreshToken: session.refreshToken,
      }),
    ).rejects.toMatchObject({ status: 400, error: 'invalid_grant' });
    const fallback = await workos.userManagement.authenticateWithRefreshToken({
      clientId: emulator.clientId,
      refreshToken: kept.refreshToken,
    });
    expect(fallback.organizationId).toBe('org_1');
    expect(emulator.calls.refresh - before.refresh).toBe(3);
    expect(emulator.calls.invalidGrant - before.invalidGrant).toBe(1);
  });

  it('counts faulted calls, and answers normally once faults are cleared', async () => {
    const session = await emulator.createSession({ userId: 'user_b' });
    const before = emulator.calls.refresh;
    emulator.fault('authenticate', { status: 500 });
    await expect(
      workos.userManagement.authenticateWithRefreshToken({
        clientId: emulator.clientId,
        refreshToken: session.refreshToken,
      }),
    ).rejects.toMatchObject({ status: 500 });
    emulator.fault('authenticate', { down: true });
    await expect(
      workos.userManagement.authenticateWithRefreshToken({
        clientId: emulator.clientId,
        refreshToken: session.refreshToken,
      }),
    ).rejects.toThrow();
    emulator.clearFaults();
    await workos.userManagement.authenticateWithRefreshToken({
      clientId: emulator.clientId,
      refreshToken: session.refreshToken,
    });
    expect(emulator.calls.refresh - before).toBe(3);
  });

  it('seals a cookie the SDK authenticates', async () => {
    const session = await emulator.createSession({ userId: 'user_a', organizationId: 'org_2' });
    const auth = await workos.userManagement
      .loadSealedSession({
        sessionData: emulator.sealSession(session, COOKIE_PASSWORD),
        cookiePassword: COOKIE_PASSWORD,
      })
      .authenticate();
    expect(auth).toMatchObject({
      authenticated: true,
      organizationId: 'org_2',
      featureFlags: ['beta'],
    });
  });

  it("agrees with the SDK's FeatureFlagsRuntimeClient on every (flag state, user, org)", async () => {
    const states: Array<Omit<EmulatorFlag, 'slug'>> = [
      { enabled: false, orgRule: 'all', users: ['user_a'] },
      { enabled: true, orgRule: 'none' },
      { enabled: true, orgRule: 'none', users: ['user_a'] },
      { enabled: true, orgRule: 'some', organizations: ['org_1'] },
      { enabled: true, orgRule: 'some', organizations: ['org_1'], users: ['user_b'] },
      { enabled: true, orgRule: 'all' },
    ];
    states.forEach((state, i) => emulator.setFlag(`state-${i}`, state));
    const client = workos.featureFlags.createRuntimeClient({ pollingIntervalMs: 60_000 });
    client.on('error', () => undefined); // an unhandled 'error' would crash the process
    try {
      await client.waitUntilReady({ timeoutMs: 5000 });
      for (const userId of ['user_a', 'user_b']) {
        for (const organizationId of ['org_1', 'org_2', undefined]) {
          const ours = emulator.evaluateFlags(userId, organizationId);
          states.forEach((_state, i) => {
            const slug = `state-${i}`;
            expect([
              slug,
              userId,
              organizationId,
              client.isEnabled(slug, { userId, organizationId }),
            ]).toEqual([slug, userId, organizationId, ours.includes(slug)]);
          });
        }
      }
    } finally {
      client.close();
    }
  });
});
