// The browser suite: needs Debian's chromium (/usr/bin/chromium, or CHROMIUM_PATH).
import base from './jest.config.js';

/** @type {import('jest').Config} */
export default {
  ...base,
  testMatch: ['<rootDir>/test/browser/**/*.browser.spec.ts'],
  testPathIgnorePatterns: [],
  testTimeout: 30000,
};
