import { Controller, Get, Header, HttpCode, Module, Post, Redirect } from '@nestjs/common';
import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Redis } from 'ioredis';
import type { Browser, Page } from 'playwright-core';
import { randomBytes } from 'node:crypto';
import {
  AuthKitModule,
  CurrentSession,
  SessionService,
  type AuthKitSession,
} from '../../lib/index.js';
import { RedisStore } from '../../lib/redis/index.js';
import type { WorkOSEmulator } from '../../lib/testing/index.js';
import { freePort, OwnRedis, ready } from '../e2e/support/own-redis.js';
import { CAROL, ORG_A, startSeededEmulator } from '../e2e/support/seed.js';
import { launchChromium } from './support/chromium.js';

@Controller()
class PageController {
  constructor(private readonly sessions: SessionService) {}

  @Get()
  @Header('Content-Type', 'text/html; charset=utf-8')
  home(@CurrentSession() session: AuthKitSession | undefined): string {
    if (!session) return '<a href="/auth/login" data-testid="sign-in">Sign in</a>';
    return `<p data-testid="user-email">${session.user?.email ?? ''}</p>
<p data-testid="permission-count">${session.permissions.length}</p>
<form method="post" action="/refresh"><button data-testid="refresh">Refresh now</button></form>`;
  }

  @Post('refresh')
  @HttpCode(303)
  @Redirect('/', 303)
  async refresh(): Promise<void> {
    await this.sessions.refresh();
  }
}

/**
 * issue 10.9 as a person meets it, in Debian's Chromium: a user whose token carries 200
 * permissions (a session that seals to ~12 KB) signs in on the hosted login and stays signed in
 * across refreshes, the session kept in Redis behind a small cookie.
 */
describe('a session larger than a cookie, in a real browser', () => {
  let emulator: WorkOSEmulator;
  let redis: OwnRedis;
  let client: Redis;
  let store: RedisStore;
  let app: INestApplication;
  let origin: string;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    emulator = await startSeededEmulator();
    redis = await OwnRedis.start();
    client = new Redis({ port: redis.port, host: '127.0.0.1', maxRetriesPerRequest: 1 });
    client.on('error', () => undefined);
    await ready(client);
    store = await RedisStore.create({
      client,
      prefix: `nestjs-authkit-browser-${randomBytes(4).toString('hex')}:`,
    });
    const port = await freePort();
    origin = `http://localhost:${port}`;
    @Module({
      imports: [
        AuthKitModule.forRoot({
          ...emulator.moduleOptions(),
          cookiePassword: randomBytes(32).toString('base64url'),
          redirectUri: `${origin}/auth/callback`,
          routes: true,
          store,
        }),
      ],
      controllers: [PageController],
    })
    class BrowserAppModule {}
    app = await NestFactory.create(BrowserAppModule, { logger: ['error', 'warn'] });
    await app.listen(port, 'localhost');
    browser = await launchChromium();
    page = await browser.newPage();
  });
  afterAll(async () => {
    await browser?.close();
    await app?.close();
    await store?.close();
    client?.disconnect();
    await redis?.stop();
    await emulator?.close();
  });

  const testId = (id: string) => page.getByTestId(id);

  /** The browser's own session cookie: what it kept, measured as it limits it (name=value). */
  async function sessionCookie(): Promise<string> {
    const cookie = (await page.context().cookies(origin)).find((c) => c.name === 'wos-session');
    if (!cookie) throw new Error('the browser kept no wos-session cookie');
    expect(`${cookie.name}=${cookie.value}`.length).toBeLessThanOrEqual(4096);
    return cookie.value;
  }

  async function expectSignedInWith200Permissions(): Promise<void> {
    expect(await testId('user-email').textContent()).toBe('carol@example.test');
    expect(await testId('permission-count').textContent()).toBe('200');
  }

  it('issue 10.9: a user whose token carries 200 permissions signs in and stays signed in across two refreshes', async () => {
    await page.goto(`${origin}/`);
    await testId('sign-in').click();
    await page.waitForURL(`${emulator.url}/user_management/authorize?**`);
    const callback = page.waitForResponse((r) => r.url().startsWith(`${origin}/auth/callback`));
    await testId(`sign-in-${CAROL}-${ORG_A}`).click();
    expect((await callback).status()).toBe(302); // not 500 SESSION_TOO_LARGE
    await page.waitForURL(`${origin}/`);
    await expectSignedInWith200Permissions();
    let cookie = await sessionCookie();

    for (let refresh = 1; refresh <= 2; refresh++) {
      const before = emulator.calls.refresh;
      await testId('refresh').click();
      await page.waitForURL(`${origin}/`);
      expect(emulator.calls.refresh - before).toBe(1);
      await expectSignedInWith200Permissions();
      const next = await sessionCookie();
      expect(next).not.toBe(cookie);
      cookie = next;
    }
  });
});
