import { Controller, Get, Injectable, Module } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import request from 'supertest';
import { AuthKitModule, RequireFlag } from '../../lib/index.js';
import type { WorkOSEmulator } from '../../lib/testing/index.js';
import { COOKIE_PASSWORD } from './support/app.fixture.js';
import { ALICE, ORG_B, startSeededEmulator } from './support/seed.js';

@Controller()
class PingController {
  @Get('gated')
  @RequireFlag('beta')
  gated() {
    return { ok: true };
  }
}

describe('module configuration', () => {
  let emulator: WorkOSEmulator;
  const saved = { ...process.env };
  beforeAll(async () => {
    emulator = await startSeededEmulator();
  });
  afterAll(() => emulator.close());
  afterEach(() => {
    process.env = { ...saved };
  });

  /** Boots the compiled module and proves a flag-gated route accepts a real session. */
  async function expectGatedRouteWorks(moduleRef: TestingModule): Promise<void> {
    const app = await moduleRef.createNestApplication({ logger: false }).init();
    try {
      const session = await emulator.createSession({ userId: ALICE, organizationId: ORG_B });
      const res = await request(app.getHttpServer())
        .get('/gated')
        .set('Cookie', `wos-session=${emulator.sealSession(session, COOKIE_PASSWORD)}`);
      expect(res.status).toBe(200);
    } finally {
      await app.close();
    }
  }

  const boot = (options: Parameters<typeof AuthKitModule.forRoot>[0]) =>
    Test.createTestingModule({ imports: [AuthKitModule.forRoot(options)] }).compile();

  it('fails at boot on a short cookie password, saying how to fix it', async () => {
    await expect(
      boot({ ...emulator.moduleOptions(), cookiePassword: 'too-short' }),
    ).rejects.toThrow(
      /cookiePassword must be at least 32 characters \(got 9\).*WORKOS_COOKIE_PASSWORD/s,
    );
  });

  it('issue 10.13: fails at boot on a short password in a rotation map, naming its id and the fix', async () => {
    const rotated = { 2: COOKIE_PASSWORD, 1: 'too-short' };
    await expect(boot({ ...emulator.moduleOptions(), cookiePassword: rotated })).rejects.toThrow(
      /cookiePassword id "1" must be at least 32 characters \(got 9\).*WORKOS_COOKIE_PASSWORD/s,
    );
  });

  it('fails at boot without a client id or API key, naming the env vars', async () => {
    delete process.env.WORKOS_CLIENT_ID;
    delete process.env.WORKOS_API_KEY;
    await expect(boot({ cookiePassword: COOKIE_PASSWORD })).rejects.toThrow(
      /clientId is missing.*WORKOS_CLIENT_ID.*apiKey is missing.*WORKOS_API_KEY/s,
    );
  });

  it('fails at boot when the auth routes are on without a redirect URI, naming the env var', async () => {
    delete process.env.WORKOS_REDIRECT_URI;
    const options = { ...emulator.moduleOptions(), cookiePassword: COOKIE_PASSWORD };
    await expect(boot({ ...options, routes: true })).rejects.toThrow(
      /routes need redirectUri.*WORKOS_REDIRECT_URI/s,
    );
    await expect(boot({ ...options, redirectUri: '/auth/callback' })).rejects.toThrow(
      /redirectUri must be an absolute http\(s\) URL/,
    );
    await expect(
      boot({
        ...options,
        redirectUri: 'https://a.test/cb',
        signIn: { trustedOrigins: ['https://b.test/x'] },
      }),
    ).rejects.toThrow(/signIn\.trustedOrigins entry "https:\/\/b.test\/x" is not an origin/);
  });

  it('falls back to WORKOS_CLIENT_ID / WORKOS_API_KEY / WORKOS_COOKIE_PASSWORD', async () => {
    const { clientId, apiKey, ...host } = emulator.moduleOptions();
    process.env.WORKOS_CLIENT_ID = clientId;
    process.env.WORKOS_API_KEY = apiKey;
    process.env.WORKOS_COOKIE_PASSWORD = COOKIE_PASSWORD;
    const moduleRef = await Test.createTestingModule({
      imports: [AuthKitModule.forRoot(host)],
      controllers: [PingController],
    }).compile();
    await expectGatedRouteWorks(moduleRef);
  });

  it('forRootAsync takes options from an injected provider', async () => {
    @Injectable()
    class Settings {
      readonly authkit = { ...emulator.moduleOptions(), cookiePassword: COOKIE_PASSWORD };
    }
    @Module({ providers: [Settings], exports: [Settings] })
    class SettingsModule {}

    const moduleRef = await Test.createTestingModule({
      imports: [
        AuthKitModule.forRootAsync({
          imports: [SettingsModule],
          inject: [Settings],
          useFactory: (settings: Settings) => settings.authkit,
        }),
      ],
      controllers: [PingController],
    }).compile();
    await expectGatedRouteWorks(moduleRef);
  });
});
