import type { Browser, Page } from 'playwright-core';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { startSample, type RunningSample } from '../../sample/bootstrap.js';
import { ACME, GLOBEX } from '../../sample/demo-seed.js';
import { launchChromium } from './support/chromium.js';

const ALICE = 'user_01ALICE';
const SCREENSHOTS = join(process.cwd(), 'test/e2e/__screenshots__');

/**
 * The whole loop as a person does it, in Debian's Chromium: sign in on the emulator's hosted
 * login, open a gated page, switch organization, widen a flag on the admin page, sign out.
 */
describe('the sample in a real browser', () => {
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

  it('signs in through the hosted login and sees who and where it is', async () => {
    await page.goto(sample.url);
    await testId('sign-in').click();
    await page.waitForURL(`${sample.demo!.emulator.url}/user_management/authorize?**`);
    await testId(`sign-in-${ALICE}-${ACME}`).click();
    await page.waitForURL(sample.url);
    expect(await testId('user-email').textContent()).toBe('alice@example.com');
    expect(await testId('org-name').textContent()).toBe('Acme Corp');
    expect(await testId('token-flags').textContent()).toBe('beta');
    // The page's socket.io channel connected with the cookie and got its beta-gated answer.
    await page
      .locator('[data-testid="live-log"]', { hasText: `"organizationId":"${ACME}"` })
      .waitFor();

    mkdirSync(SCREENSHOTS, { recursive: true });
    const file = join(SCREENSHOTS, 'signed-in.png');
    await page.screenshot({ path: file, fullPage: true });
    console.log(`screenshot of the signed-in page: ${file}`);
  });

  it('opens the page gated by beta', async () => {
    await testId('gate-reports').click();
    expect(await testId('gated-title').textContent()).toBe('Beta reports');
    await page.goto(sample.url);
  });

  it('switches organization and loses beta there', async () => {
    await testId('org-select').selectOption(GLOBEX);
    await testId('switch-org').click();
    await page.waitForURL(sample.url);
    expect(await testId('org-name').textContent()).toBe('Globex');
    expect(await testId('token-flags').textContent()).toBe('none');
    await page.locator('[data-testid="live-log"]', { hasText: 'FLAG_DISABLED' }).waitFor();

    const denied = await page.goto(`${sample.url}reports`);
    expect(denied?.status()).toBe(403);
    expect(await testId('error-detail').textContent()).toContain('needs beta');
  });

  it('widens beta to All on the flags page; after a refresh Globex has it too', async () => {
    await page.goto(sample.demo!.flagsUrl);
    expect(await testId(`eval-${ALICE}-${GLOBEX}-beta`).textContent()).toBe('off');
    await testId('flag-beta-rule-all').check();
    await testId('flag-beta-save').click();
    await page.waitForURL(sample.demo!.flagsUrl);
    expect(await testId(`eval-${ALICE}-${GLOBEX}-beta`).textContent()).toBe('on');

    // The runtime client would bring it within a poll; "Refresh now" does not wait for it.
    await page.goto(sample.url);
    await testId('refresh').click();
    await page.waitForURL(sample.url);
    expect(await testId('org-name').textContent()).toBe('Globex');
    expect(await testId('token-flags').textContent()).toBe('beta');
    const allowed = await page.goto(`${sample.url}reports`);
    expect(allowed?.status()).toBe(200);
  });

  it('signs out through WorkOS and lands home, signed out', async () => {
    await page.goto(sample.url);
    await testId('sign-out').click();
    await page.waitForURL(sample.url);
    await testId('sign-in').waitFor();
    const cookies = await page.context().cookies(sample.url);
    expect(cookies.find((c) => c.name === 'wos-session')).toBeUndefined();
  });
});
