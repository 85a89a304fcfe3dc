import { Controller, Get } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import { AuthKitModule, RequireFlag, RequirePermission } from '../../lib/index.js';
import type { WorkOSEmulator } from '../../lib/testing/index.js';
import { COOKIE_PASSWORD, startApp, type Platform, type TestApp } from './support/app.fixture.js';
import { ALICE, ORG_B, startSeededEmulator } from './support/seed.js';

@Controller('reports')
class ReportsController {
  @Get()
  @RequirePermission('reports:read')
  list() {
    return { ok: true };
  }
}

@Controller('sensitive')
class FreshController {
  @Get()
  @RequireFlag('beta', { fresh: true })
  fresh() {
    return { ok: true };
  }
}

/** The emulator's connection without its API key: what a resource server is given. */
function clientOnly(emulator: WorkOSEmulator) {
  const { clientId, api } = emulator.moduleOptions();
  return { clientId, api };
}

describe.each<Platform>(['express', 'fastify'])('resource-server mode on %s', (platform) => {
  let emulator: WorkOSEmulator;
  let t: TestApp | undefined;
  beforeEach(async () => {
    emulator = await startSeededEmulator();
  });
  afterEach(async () => {
    await t?.close();
    t = undefined;
    await emulator.close();
  });

  it('boots with the client id alone, verifies Bearer tokens, and takes no cookie as a credential', async () => {
    const before = { ...process.env };
    delete process.env.WORKOS_API_KEY;
    delete process.env.WORKOS_COOKIE_PASSWORD;
    try {
      t = await startApp(
        platform,
        emulator,
        { ...clientOnly(emulator), cookiePassword: undefined, apiKey: undefined },
        [ReportsController],
      );
    } finally {
      process.env = before;
    }
    expect(t.logger.lines.join('\n')).toMatch(/resource-server mode/);
    const session = await emulator.createSession({ userId: ALICE, organizationId: ORG_B });
    const ok = await request(t.server)
      .get('/reports')
      .set('Authorization', `Bearer ${session.accessToken}`);
    expect(ok.status).toBe(200);
    const cookie = await request(t.server)
      .get('/reports')
      .set('Cookie', `wos-session=${emulator.sealSession(session, COOKIE_PASSWORD)}`);
    expect([cookie.status, cookie.body.reason]).toEqual([401, 'NO_SESSION']);
    const forged = await request(t.server)
      .get('/reports')
      .set('Authorization', `Bearer ${session.accessToken.slice(0, -4)}AAAA`);
    expect([forged.status, forged.body.reason]).toEqual([401, 'INVALID_JWT']);
    // Nothing was asked of WorkOS but its public keys.
    expect(emulator.calls.refresh).toBe(0);
  });
});

describe('resource-server mode refuses what needs a secret, at boot, naming the fix', () => {
  let emulator: WorkOSEmulator;
  beforeAll(async () => {
    emulator = await startSeededEmulator();
  });
  afterAll(() => emulator.close());

  const boot = async (extras: Parameters<typeof AuthKitModule.forRoot>[0], fresh = false) => {
    const moduleRef = await Test.createTestingModule({
      imports: [AuthKitModule.forRoot({ ...clientOnly(emulator), ...extras })],
      controllers: fresh ? [ReportsController, FreshController] : [ReportsController],
    }).compile();
    const app = moduleRef.createNestApplication({ logger: false });
    try {
      await app.init();
    } finally {
      await app.close();
    }
  };

  it('sign-in routes need apiKey and cookiePassword', async () => {
    await expect(boot({ routes: true })).rejects.toThrow(
      /routes sign users in with cookie sessions, which need apiKey and cookiePassword/,
    );
  });

  it('fresh flag routes need an API key', async () => {
    await expect(boot({}, true)).rejects.toThrow(
      /live flags .* need(s)? an API key: pass \{ apiKey \}/,
    );
  });

  it('a cookie password without an API key is a half configuration', async () => {
    await expect(boot({ cookiePassword: COOKIE_PASSWORD })).rejects.toThrow(
      /apiKey is missing: .* or pass neither apiKey nor cookiePassword/,
    );
  });
});
