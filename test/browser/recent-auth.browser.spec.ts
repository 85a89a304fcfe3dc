import type { Browser, Page } from 'playwright-core';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { startSample, type RunningSample } from '../../sample/bootstrap.js';
import { ACME, GLOBEX } from '../../sample/demo-seed.js';
import { launchChromium } from './support/chromium.js';

const ALICE = 'user_01ALICE';
const SCREENSHOTS = join(process.cwd(), 'test/e2e/__screenshots__');

/**
 * `@RequireRecentAuth` as a person meets it, in Debian's Chromium: signed in through a WorkOS
 * session ten minutes old (the emulator's reused session, no sleeping), the security page asks
 * to sign in again; the link goes through the hosted login with `max_age`, and back to the page.
 */
describe('recent authentication in a real browser', () => {
  let sample: RunningSample;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    sample = await startSample({ port: 0, logger: false, env: {} });
    browser = await launchChromium();
    page = await browser.newPage();
  });
  afterAll(async () => {
    await browser?.close();
    await sample?.close();
  });

  const testId = (id: string) => page.getByTestId(id);
  const authorizeUrl = () => `${sample.demo!.emulator.url}/user_management/authorize?**`;

  it('signs in through a WorkOS session that authenticated ten minutes ago', async () => {
    sample.demo!.emulator.reuseHostedSession(600);
    await page.goto(sample.url);
    await testId('sign-in').click();
    await page.waitForURL(authorizeUrl());
    expect(new URL(page.url()).searchParams.has('max_age')).toBe(false);
    // Globex: not Alice's first organization, so a lost organization would show.
    await testId(`sign-in-${ALICE}-${GLOBEX}`).click();
    await page.waitForURL(sample.url);
    expect(await testId('org-name').textContent()).toBe('Globex');
  });

  it('the security page refuses the old sign-in and says to sign in again', async () => {
    await testId('security-link').click();
    await page.waitForURL(`${sample.url}security`);
    expect(await testId('error-status').textContent()).toBe('401 RECENT_AUTH_REQUIRED');
    expect(await testId('error-detail').textContent()).toContain(
      'needs a sign-in within the last 5 minutes',
    );
    expect(await testId('reauthenticate').getAttribute('href')).toBe(
      `/auth/login?maxAge=300&returnTo=%2Fsecurity&organizationId=${GLOBEX}`,
    );
    mkdirSync(SCREENSHOTS, { recursive: true });
    const file = join(SCREENSHOTS, 'recent-auth-required.png');
    await page.screenshot({ path: file, fullPage: true });
    console.log(`screenshot of the sign-in-again page: ${file}`);
  });

  it('signing in again asks WorkOS for max_age=300 and lands back on the page, same organization', async () => {
    await testId('reauthenticate').click();
    await page.waitForURL(authorizeUrl());
    const authorize = new URL(page.url()).searchParams;
    expect(authorize.get('max_age')).toBe('300');
    // Narrowed to the organization the user was in: Acme is not offered.
    expect(authorize.get('organization_id')).toBe(GLOBEX);
    expect(await testId(`sign-in-${ALICE}-${ACME}`).count()).toBe(0);
    const landed = page.waitForResponse(`${sample.url}security`);
    await testId(`sign-in-${ALICE}-${GLOBEX}`).click();
    expect((await landed).status()).toBe(200);
    expect(await testId('security-title').textContent()).toBe('Security settings');
    expect(await testId('security-org').textContent()).toBe(GLOBEX);
    expect(await testId('auth-time').textContent()).toMatch(/, [0-4] s ago$/);
    await page.screenshot({ path: join(SCREENSHOTS, 'security-settings.png'), fullPage: true });
  });

  it('the protected form works now: the new API key is shown once', async () => {
    await testId('create-api-key').click();
    await testId('api-key-value').waitFor();
    expect(await testId('api-key-value').textContent()).toMatch(/^sk_test_[0-9a-f]{64}$/);
    const [key] = sample.demo!.emulator.apiKeys();
    expect(key?.owner).toEqual({ type: 'organization', id: GLOBEX });
  });
});
