// The e2e suites against @workos-inc/node 12 (installed beside 11 as the npm
// alias `workos-node-12`): every import of the SDK, ours and the tests', resolves to it.
import base from './jest.config.js';

/** @type {import('jest').Config} */
export default {
  ...base,
  moduleNameMapper: {
    ...base.moduleNameMapper,
    '^@workos-inc/node$': 'workos-node-12',
  },
  testMatch: ['<rootDir>/test/e2e/**/*.spec.ts'],
};
