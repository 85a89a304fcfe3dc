import { chromium, type Browser } from 'playwright-core';

/**
 * Debian's Chromium (or `CHROMIUM_PATH`), headless. Without the background-networking flags,
 * Chromium's own connections are refused by this machine's closed network at every start.
 */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
}
