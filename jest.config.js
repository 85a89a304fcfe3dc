// ESM mode: NestJS 12 is ESM-only and jest's CommonJS mode cannot require() it.
// @swc/jest keeps decorator metadata (Nest DI needs it) and is ~10x faster than ts-jest.
/** @type {import('jest').Config} */
export default {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  transform: {
    // mercurius -> @fastify/static require()s content-disposition 3, which is ESM only: Node 20
    // loads it natively, jest's CommonJS loader only below Node 24.9 once compiled to CommonJS.
    '/@fastify/static/node_modules/content-disposition/.+\\.js$': [
      '@swc/jest',
      { module: { type: 'commonjs' } },
    ],
    '^.+\\.ts$': [
      '@swc/jest',
      {
        jsc: {
          target: 'es2022',
          parser: { syntax: 'typescript', decorators: true },
          transform: { legacyDecorator: true, decoratorMetadata: true },
        },
        module: { type: 'es6' },
      },
    ],
  },
  moduleNameMapper: {
    '^(\\.{1,2}/.*)\\.js$': '$1',
    // The sample imports the package by name, as users do; tests run it from source.
    '^nestjs-authkit$': '<rootDir>/lib/index.ts',
    '^nestjs-authkit/testing$': '<rootDir>/lib/testing/index.ts',
    '^nestjs-authkit/redis$': '<rootDir>/lib/redis/index.ts',
    '^nestjs-authkit/openfeature$': '<rootDir>/lib/openfeature/index.ts',
    '^nestjs-authkit/terminus$': '<rootDir>/lib/terminus/index.ts',
  },
  transformIgnorePatterns: [
    '/node_modules/(?!(@fastify/static/node_modules/)?content-disposition/)',
  ],
  testMatch: ['<rootDir>/test/**/*.spec.ts'],
  // The browser suite needs Chromium: `npm run test:browser` (CI installs it).
  testPathIgnorePatterns: ['/node_modules/', '<rootDir>/test/browser/'],
  testTimeout: 20000,
};
