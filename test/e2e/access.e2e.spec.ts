import { Controller, Get, Param, Post, type ExecutionContext } from '@nestjs/common';
import request from 'supertest';
import {
  CurrentSession,
  DenyImpersonation,
  FlagService,
  OptionalSession,
  SessionService,
  RequireClaim,
  RequireEntitlement,
  RequireFlag,
  RequireOrganization,
  RequirePermission,
  RequireRecentAuth,
  RequireRole,
  type AccessDecision,
  type AuditRecord,
  type AuthKitSession,
} from '../../lib/index.js';
import type { WorkOSEmulator } from '../../lib/testing/index.js';
import { COOKIE_PASSWORD, startApp, type Platform, type TestApp } from './support/app.fixture.js';
import { ALICE, BOB, ORG_A, ORG_B, startSeededEmulator } from './support/seed.js';

@Controller('orgs/:orgId')
@RequireOrganization({ param: 'orgId' })
class TenantController {
  @Get('reports')
  @RequirePermission('reports:read')
  @RequireFlag('beta')
  reports(@Param('orgId') orgId: string) {
    return { orgId };
  }

  @Post('reports/export')
  @RequirePermission(['reports:read', 'reports:export'], { mode: 'any' })
  @RequireRole(['admin', 'owner'])
  @DenyImpersonation()
  @RequireRecentAuth({ maxAge: 300 })
  export() {
    return { ok: true };
  }
}

@Controller('misc')
class MiscController {
  @Get('plan')
  @RequireEntitlement('enterprise')
  plan() {
    return { ok: true };
  }

  @Get('tier')
  @RequireClaim('urn:test:tier', (tier) => tier === 'gold')
  tier() {
    return { ok: true };
  }

  @Get('tier-throws')
  @RequireClaim('urn:test:tier', () => {
    throw new Error('bug in the test');
  })
  tierThrows() {
    return { ok: true };
  }

  @Get('header-tenant')
  @RequireOrganization({
    tenant: (ctx: ExecutionContext) =>
      ctx.switchToHttp().getRequest<{ headers: Record<string, string> }>().headers['x-tenant'],
  })
  headerTenant() {
    return { ok: true };
  }

  @Get('optional')
  @OptionalSession()
  @RequirePermission('reports:read')
  optional(@CurrentSession() session?: AuthKitSession) {
    return { userId: session?.userId ?? null };
  }
}

@Controller('global')
class GlobalController {
  @Get('optional')
  @OptionalSession()
  optional(@CurrentSession() session?: AuthKitSession) {
    return { userId: session?.userId ?? null };
  }

  @Get('required')
  required() {
    return { ok: true };
  }
}

describe.each<Platform>(['express', 'fastify'])('access decorators on %s', (platform) => {
  let emulator: WorkOSEmulator;
  let t: TestApp;
  let records: AuditRecord[];
  const accessRecords = () =>
    records.filter((r): r is AccessDecision => r.event === 'access_decision');

  beforeAll(async () => {
    emulator = await startSeededEmulator();
    records = [];
    t = await startApp(platform, emulator, { audit: { record: (r) => records.push(r) } }, [
      TenantController,
      MiscController,
    ]);
  });
  afterAll(async () => {
    await t.close();
    await emulator.close();
  });
  beforeEach(() => {
    records.length = 0;
  });

  async function cookie(userId: string, organizationId: string) {
    const session = await emulator.createSession({ userId, organizationId });
    return `wos-session=${emulator.sealSession(session, COOKIE_PASSWORD)}`;
  }

  /** A Bearer token with these claims over Alice-in-ORG_B's own. */
  function token(extra: Record<string, unknown> = {}): Promise<string> {
    const now = Math.floor(Date.now() / 1000);
    return emulator.signAccessToken({
      iss: emulator.issuer,
      sub: ALICE,
      sid: `session_access_${Math.random().toString(36).slice(2)}`,
      org_id: ORG_B,
      role: 'admin',
      roles: ['admin'],
      permissions: ['reports:read'],
      feature_flags: ['beta'],
      iat: now,
      exp: now + 300,
      auth_time: now - 10,
      ...extra,
    });
  }

  const bearer = async (
    path: string,
    claims?: Record<string, unknown>,
    method: 'get' | 'post' = 'get',
  ) => {
    const agent = request(t.server);
    const req = method === 'post' ? agent.post(path) : agent.get(path);
    return req.set('Authorization', `Bearer ${await token(claims)}`);
  };

  it('every check holds: allowed, one audit record per check, flags after access', async () => {
    const res = await request(t.server)
      .get(`/orgs/${ORG_B}/reports`)
      .set('Cookie', await cookie(ALICE, ORG_B));
    expect([res.status, res.body]).toEqual([200, { orgId: ORG_B }]);
    expect(records.map((r) => (r.event === 'access_decision' ? r.check : r.event))).toEqual([
      'organization',
      'permission',
      'flag_decision',
    ]);
    expect(accessRecords()[0]).toMatchObject({
      allowed: true,
      claim: 'org_id',
      required: [ORG_B],
      user: ALICE,
      org: ORG_B,
    });
    expect(JSON.stringify(records)).not.toMatch(/eyJ/); // never a token
  });

  it('a token of one tenant for another tenant’s data: 403 ORGANIZATION_MISMATCH, before any other check', async () => {
    const res = await request(t.server)
      .get(`/orgs/${ORG_A}/reports`)
      .set('Cookie', await cookie(ALICE, ORG_B));
    expect([res.status, res.body.reason]).toEqual([403, 'ORGANIZATION_MISMATCH']);
    expect(accessRecords()).toEqual([
      expect.objectContaining({
        allowed: false,
        check: 'organization',
        reason: 'ORGANIZATION_MISMATCH',
        required: [ORG_A],
        org: ORG_B,
      }),
    ]);
  });

  it('missing permission: 403 PERMISSION_DENIED naming it, even where the flag is off too', async () => {
    const res = await request(t.server)
      .get(`/orgs/${ORG_A}/reports`)
      .set('Cookie', await cookie(BOB, ORG_A));
    expect([res.status, res.body]).toEqual([
      403,
      expect.objectContaining({ reason: 'PERMISSION_DENIED', missing: ['reports:read'] }),
    ]);
  });

  it('class and method requirements all hold: role, any-of permissions, recent sign-in, no impersonation', async () => {
    const ok = await bearer(`/orgs/${ORG_B}/reports/export`, {}, 'post');
    expect(ok.status).toBe(201);
    expect(accessRecords().map((r) => [r.check, r.allowed])).toEqual([
      ['no-impersonation', true],
      ['organization', true],
      ['recent-auth', true],
      ['role', true],
      ['permission', true],
    ]);
    const member = await bearer(
      `/orgs/${ORG_B}/reports/export`,
      { roles: ['member'], role: 'member' },
      'post',
    );
    expect([member.status, member.body.reason]).toEqual([403, 'ROLE_REQUIRED']);
    // `role` alone (no `roles` claim) counts.
    const roleOnly = await bearer(
      `/orgs/${ORG_B}/reports/export`,
      { roles: undefined, role: 'owner' },
      'post',
    );
    expect(roleOnly.status).toBe(201);
  });

  it('impersonated: 403 IMPERSONATION_DENIED, and every record names the impersonator', async () => {
    const res = await bearer(
      `/orgs/${ORG_B}/reports/export`,
      { act: { sub: 'admin@example.test' } },
      'post',
    );
    expect([res.status, res.body.reason]).toEqual([403, 'IMPERSONATION_DENIED']);
    expect(accessRecords()).toEqual([
      expect.objectContaining({
        check: 'no-impersonation',
        allowed: false,
        impersonator: 'admin@example.test',
      }),
    ]);
    const allowedRoute = await bearer(`/orgs/${ORG_B}/reports`, {
      act: { sub: 'admin@example.test' },
    });
    expect(allowedRoute.status).toBe(200);
    expect(records.every((r) => r.impersonator === 'admin@example.test')).toBe(true);
  });

  it('an old sign-in: 401 RECENT_AUTH_REQUIRED with maxAge, RFC 9470 challenge for Bearer; no auth_time refuses too', async () => {
    const now = Math.floor(Date.now() / 1000);
    const old = await bearer(`/orgs/${ORG_B}/reports/export`, { auth_time: now - 3600 }, 'post');
    expect([old.status, old.body]).toEqual([
      401,
      expect.objectContaining({ reason: 'RECENT_AUTH_REQUIRED', maxAge: 300 }),
    ]);
    expect(old.headers['www-authenticate']).toBe(
      'Bearer error="insufficient_user_authentication", error_description="a more recent authentication is required", max_age=300',
    );
    const none = await bearer(`/orgs/${ORG_B}/reports/export`, { auth_time: undefined }, 'post');
    expect([none.status, none.body.reason]).toEqual([401, 'RECENT_AUTH_REQUIRED']);
    const future = await bearer(`/orgs/${ORG_B}/reports/export`, { auth_time: now + 3600 }, 'post');
    expect([future.status, future.body.reason]).toEqual([401, 'RECENT_AUTH_REQUIRED']);
  });

  it('entitlements and custom claims: refused with their reasons, allowed when held; a throwing test refuses', async () => {
    expect((await bearer('/misc/plan')).body.reason).toBe('ENTITLEMENT_REQUIRED');
    expect((await bearer('/misc/plan', { entitlements: ['enterprise'] })).status).toBe(200);
    expect((await bearer('/misc/tier', { 'urn:test:tier': 'silver' })).body.reason).toBe(
      'CLAIM_REQUIRED',
    );
    expect((await bearer('/misc/tier', { 'urn:test:tier': 'gold' })).status).toBe(200);
    const throws = await bearer('/misc/tier-throws', { 'urn:test:tier': 'gold' });
    expect([throws.status, throws.body.reason]).toEqual([403, 'CLAIM_REQUIRED']);
  });

  it('a tenant read by a function; a request naming none is refused; no organization: ORGANIZATION_REQUIRED', async () => {
    const token0 = await token();
    const ok = await request(t.server)
      .get('/misc/header-tenant')
      .set('Authorization', `Bearer ${token0}`)
      .set('X-Tenant', ORG_B);
    expect(ok.status).toBe(200);
    const missing = await request(t.server)
      .get('/misc/header-tenant')
      .set('Authorization', `Bearer ${token0}`);
    expect(missing.body.reason).toBe('ORGANIZATION_MISMATCH');
    const noOrg = await bearer('/misc/header-tenant', { org_id: undefined });
    expect([noOrg.status, noOrg.body.reason]).toEqual([403, 'ORGANIZATION_REQUIRED']);
  });

  it('@OptionalSession: no credential goes through unchecked; a session is checked; a broken one is refused', async () => {
    expect((await request(t.server).get('/misc/optional')).body).toEqual({ userId: null });
    expect((await bearer('/misc/optional')).body).toEqual({ userId: ALICE });
    const denied = await bearer('/misc/optional', { permissions: [] });
    expect(denied.body.reason).toBe('PERMISSION_DENIED');
    const forged = await request(t.server)
      .get('/misc/optional')
      .set('Authorization', 'Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.');
    expect([forged.status, forged.body.reason]).toEqual([401, 'INVALID_JWT']);
  });

  it('a Bearer token after a change affecting its user: a flag change leaves its roles usable, an access change makes them stale (401 STALE_CLAIMS)', async () => {
    const stale = await token({ iat: Math.floor(Date.now() / 1000) - 5 });
    const exportAs = () =>
      request(t.server)
        .post(`/orgs/${ORG_B}/reports/export`)
        .set('Authorization', `Bearer ${stale}`);
    t.app.get(FlagService).invalidate({ users: [ALICE] }, 'flag changed');
    expect((await exportAs()).status).toBe(201); // roles and permissions: no flag in them
    const flagged = await request(t.server)
      .get(`/orgs/${ORG_B}/reports`)
      .set('Authorization', `Bearer ${stale}`);
    expect([flagged.status, flagged.body.reason]).toEqual([401, 'STALE_CLAIMS']); // its flag claim is
    t.app.get(SessionService).invalidate({ users: [ALICE] }, 'membership changed');
    const res = await exportAs();
    expect([res.status, res.body.reason]).toEqual([401, 'STALE_CLAIMS']);
    // A cookie session of the same user is refreshed instead, and allowed.
    const before = emulator.calls.refresh;
    const fresh = await request(t.server)
      .get(`/orgs/${ORG_B}/reports`)
      .set('Cookie', await cookie(ALICE, ORG_B));
    expect(fresh.status).toBe(200);
    expect(emulator.calls.refresh - before).toBeLessThanOrEqual(1);
  });
});

describe('@OptionalSession under globalGuard', () => {
  let emulator: WorkOSEmulator;
  let t: TestApp;
  beforeAll(async () => {
    emulator = await startSeededEmulator();
    t = await startApp('express', emulator, { globalGuard: true }, [GlobalController]);
  });
  afterAll(async () => {
    await t.close();
    await emulator.close();
  });

  it('lets a request without a credential through, refuses a broken one, requires a session elsewhere', async () => {
    expect((await request(t.server).get('/global/optional')).body).toEqual({ userId: null });
    const broken = await request(t.server)
      .get('/global/optional')
      .set('Cookie', 'wos-session=Fe26.2**garbage');
    expect([broken.status, broken.body.reason]).toEqual([401, 'INVALID_SESSION']);
    expect((await request(t.server).get('/global/required')).status).toBe(401);
  });
});

describe('misconfigured access decorators fail at boot, naming the fix', () => {
  it.each([
    [() => RequirePermission([]), /@RequirePermission\(\) needs one or more non-empty slugs/],
    [() => RequireRole(''), /@RequireRole\(\) needs one or more non-empty slugs/],
    [
      () => RequirePermission('a', { mode: 'some' as 'any' }),
      /@RequirePermission\(\) mode must be 'all' or 'any'/,
    ],
    [() => RequireRecentAuth({ maxAge: -1 }), /@RequireRecentAuth\(\) needs \{ maxAge \}/],
    [
      () => RequireOrganization({ param: 'a', tenant: () => 'x' }),
      /takes param or tenant, not both/,
    ],
    [() => RequireClaim('', () => true), /@RequireClaim\(\) needs a claim name/],
  ])('%#', (make, message) => {
    expect(make).toThrow(message);
  });
});
