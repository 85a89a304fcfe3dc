import { Controller, Get, Param, UseGuards } from '@nestjs/common';
import request from 'supertest';
import {
  AllowApiKeys,
  AuthKitGuard,
  CurrentSession,
  RequireOrganization,
  RequirePermission,
  type AuditRecord,
  type AuthKitSession,
} from '../../lib/index.js';
import { WorkOSEmulator } from '../../lib/testing/index.js';
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { ApiKeyValidator } from '../../lib/credentials/api-key.validator.js';
import { RedisStore } from '../../lib/redis/index.js';
import { startApp, type Platform, type TestApp } from './support/app.fixture.js';
import { OwnRedis, storeClient } from './support/own-redis.js';
import { ALICE, ORG_A, ORG_B, startSeededEmulator } from './support/seed.js';

const WEBHOOK_SECRET = 'whsec_api_keys_e2e';

const principal = (s: AuthKitSession) => ({
  source: s.source,
  userId: s.userId,
  organizationId: s.organizationId,
  apiKey: s.apiKey,
  permissions: s.permissions,
});

@Controller('keys')
class KeysController {
  @Get('orgs/:orgId/reports')
  @AllowApiKeys()
  @RequireOrganization({ param: 'orgId' })
  @RequirePermission('reports:read')
  reports(@Param('orgId') _orgId: string, @CurrentSession() session: AuthKitSession) {
    return principal(session);
  }

  @Get('me')
  @AllowApiKeys()
  @UseGuards(AuthKitGuard)
  me(@CurrentSession() session: AuthKitSession) {
    return principal(session);
  }

  @Get('sessions-only')
  @RequirePermission('reports:read')
  sessionsOnly() {
    return { ok: true };
  }

  @Get('browser-only')
  @AllowApiKeys()
  @RequirePermission('reports:read', { credentials: ['cookie'] })
  browserOnly() {
    return { ok: true };
  }

  @Get('machines-only')
  @AllowApiKeys()
  @RequireOrganization({ credentials: ['api-key'] })
  machinesOnly() {
    return { ok: true };
  }
}

describe.each<Platform>(['express', 'fastify'])('WorkOS API keys on %s', (platform) => {
  let emulator: WorkOSEmulator;
  let t: TestApp;
  let records: AuditRecord[];
  let key: { id: string; value: string };

  beforeEach(async () => {
    emulator = await startSeededEmulator();
    records = [];
    t = await startApp(
      platform,
      emulator,
      {
        audit: { record: (r) => records.push(r) },
        webhooks: true,
        webhookSecret: WEBHOOK_SECRET,
      },
      [KeysController],
    );
    key = emulator.createApiKey({
      owner: { type: 'organization', id: ORG_B },
      name: 'exporter',
      permissions: ['reports:read'],
    });
  });
  afterEach(async () => {
    await t.close();
    await emulator.close();
  });

  const get = (path: string, value = key.value) =>
    request(t.server).get(path).set('Authorization', `Bearer ${value}`);

  it('a key is a principal the same decorators check: its organization and permissions', async () => {
    const res = await get(`/keys/orgs/${ORG_B}/reports`);
    expect([res.status, res.body]).toEqual([
      200,
      {
        source: 'api-key',
        userId: key.id,
        organizationId: ORG_B,
        apiKey: { id: key.id, name: 'exporter' },
        permissions: ['reports:read'],
      },
    ]);
    expect(records).toEqual([
      expect.objectContaining({ check: 'organization', allowed: true, user: key.id, sid: key.id }),
      expect.objectContaining({ check: 'permission', allowed: true }),
    ]);
    expect(JSON.stringify(records)).not.toContain(key.value);
    const other = await get(`/keys/orgs/${ORG_A}/reports`);
    expect([other.status, other.body.reason]).toEqual([403, 'ORGANIZATION_MISMATCH']);
    const weak = emulator.createApiKey({ owner: { type: 'organization', id: ORG_B } });
    const denied = await get(`/keys/orgs/${ORG_B}/reports`, weak.value);
    expect([denied.status, denied.body.reason]).toEqual([403, 'PERMISSION_DENIED']);
    // A user's key speaks for that user.
    const mine = emulator.createApiKey({
      owner: { type: 'user', id: ALICE, organizationId: ORG_B },
    });
    expect((await get('/keys/me', mine.value)).body).toMatchObject({
      userId: ALICE,
      organizationId: ORG_B,
    });
  });

  it('{ credentials }: a route can take only some kinds of credential', async () => {
    const keyOnBrowserRoute = await get('/keys/browser-only');
    expect([keyOnBrowserRoute.status, keyOnBrowserRoute.body.reason]).toEqual([
      403,
      'CREDENTIAL_NOT_ALLOWED',
    ]);
    expect(records[0]).toMatchObject({
      check: 'credential',
      claim: 'source',
      required: ['cookie'],
      allowed: false,
    });
    expect((await get('/keys/machines-only')).status).toBe(200);
    const session = await emulator.createSession({ userId: ALICE, organizationId: ORG_B });
    const bearerOnMachineRoute = await get('/keys/machines-only', session.accessToken);
    expect(bearerOnMachineRoute.body.reason).toBe('CREDENTIAL_NOT_ALLOWED');
    expect(() => RequirePermission('x', { credentials: ['password' as 'cookie'] })).toThrow(
      /credentials must list 'cookie', 'bearer' and\/or 'api-key'/,
    );
  });

  it('only where allowed: elsewhere a key is no credential', async () => {
    const res = await get('/keys/sessions-only');
    expect([res.status, res.body.reason]).toEqual([401, 'INVALID_JWT']);
    expect(emulator.calls.apiKeyValidations).toBe(0);
  });

  it('100 concurrent requests with one key: at most one validation upstream', async () => {
    const answers = await Promise.all(
      Array.from({ length: 100 }, () => get(`/keys/orgs/${ORG_B}/reports`)),
    );
    expect(answers.every((a) => a.status === 200)).toBe(true);
    expect(emulator.calls.apiKeyValidations).toBe(1);
  });

  it('unknown, revoked (at once through revoke(id)), and WorkOS down: 401, 401, 503', async () => {
    const unknown = await get('/keys/me', 'sk_test_' + 'b'.repeat(64));
    expect([unknown.status, unknown.body.reason]).toEqual([401, 'INVALID_API_KEY']);
    expect((await get('/keys/me')).status).toBe(200);
    emulator.revokeApiKey(key.id);
    // Within the cache window WorkOS's answer is not asked again…
    expect((await get('/keys/me')).status).toBe(200);
    // …until the api_key.revoked webhook arrives (signed as WorkOS signs it).
    const body = JSON.stringify({
      id: 'event_api_key_revoked_1',
      event: 'api_key.revoked',
      data: { object: 'api_key', id: key.id, owner: { type: 'organization', id: ORG_B } },
      created_at: new Date().toISOString(),
    });
    const hook = await request(t.server)
      .post('/webhooks/workos')
      .set('Content-Type', 'application/json')
      .set('WorkOS-Signature', WorkOSEmulator.signWebhook(body, WEBHOOK_SECRET))
      .send(body);
    expect(hook.status).toBe(200);
    const revoked = await get('/keys/me');
    expect([revoked.status, revoked.body.reason]).toEqual([401, 'INVALID_API_KEY']);

    const fresh = emulator.createApiKey({ owner: { type: 'organization', id: ORG_B } });
    emulator.fault('api-key-validations', { status: 500, times: 1 });
    const down = await get('/keys/me', fresh.value);
    expect([down.status, down.body.reason]).toEqual([503, 'API_KEY_UNAVAILABLE']);
    expect((await get('/keys/me', fresh.value)).status).toBe(200); // not remembered
  });
});

describe('API key revocation shared over Redis', () => {
  let emulator: WorkOSEmulator;
  let redis: OwnRedis;
  const apps: TestApp[] = [];
  const stores: RedisStore[] = [];
  const clients: Redis[] = [];

  beforeAll(async () => {
    emulator = await startSeededEmulator();
    redis = await OwnRedis.start();
    const prefix = `nestjs-authkit-keys-${randomBytes(4).toString('hex')}:`;
    for (let i = 0; i < 2; i++) {
      const client = await storeClient(redis.port);
      const store = await RedisStore.create({ client, prefix });
      clients.push(client);
      stores.push(store);
      apps.push(await startApp('express', emulator, { store }, [KeysController]));
    }
  });
  afterAll(async () => {
    for (const app of apps) await app.close();
    for (const store of stores) await store.close();
    for (const client of clients) client.disconnect();
    await redis.stop();
    await emulator.close();
  });

  it('a key revoked on instance A is refused by instance B, which had it cached', async () => {
    const key = emulator.createApiKey({ owner: { type: 'organization', id: ORG_B } });
    const on = (app: TestApp) =>
      request(app.server).get('/keys/me').set('Authorization', `Bearer ${key.value}`);
    expect([(await on(apps[0]!)).status, (await on(apps[1]!)).status]).toEqual([200, 200]);
    expect(emulator.calls.apiKeyValidations).toBe(2); // each instance asked once, then cached
    emulator.revokeApiKey(key.id);
    apps[0]!.app.get(ApiKeyValidator).revoke(key.id); // what A's webhook route does
    expect((await on(apps[0]!)).status).toBe(401);
    // B learns it from Redis (without the message its cache would say yes for 60 s): ask
    // until it says no, for at most 3 s.
    const deadline = Date.now() + 3000;
    let seen = await on(apps[1]!);
    while (seen.status === 200 && Date.now() < deadline) seen = await on(apps[1]!);
    expect([seen.status, seen.body.reason]).toEqual([401, 'INVALID_API_KEY']);
  });
});
