// The suite against other versions of our peers, installed beside the devDependencies as npm
// aliases: every import of the peer, ours and the tests', resolves to the alias named here.
//   AUTHKIT_WORKOS_SDK=workos-node-10 | workos-node-12  (@workos-inc/node 10.6.0 | 12.x)
//   AUTHKIT_IOREDIS=ioredis-5                           (ioredis 5.3.0)
// e.g. AUTHKIT_WORKOS_SDK=workos-node-10 AUTHKIT_IOREDIS=ioredis-5 npm run test:matrix -- test/e2e
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import base from './jest.config.js';

const peers = [
  {
    env: 'AUTHKIT_WORKOS_SDK',
    name: '@workos-inc/node',
    aliases: ['workos-node-10', 'workos-node-12'],
  },
  { env: 'AUTHKIT_IOREDIS', name: 'ioredis', aliases: ['ioredis-5'] },
];

const require = createRequire(import.meta.url);
const versionOf = (pkg) =>
  JSON.parse(readFileSync(require.resolve(`${pkg}/package.json`), 'utf8')).version;

const moduleNameMapper = { ...base.moduleNameMapper };
const versions = [];
for (const { env, name, aliases } of peers) {
  const alias = process.env[env];
  // A typo must not quietly test the default version.
  if (alias && !aliases.includes(alias)) {
    throw new Error(`${env}=${alias}: expected one of ${aliases.join(', ')}`);
  }
  if (alias) moduleNameMapper[`^${name.replace('/', '\\/')}$`] = alias;
  versions.push(`${name} ${versionOf(alias ?? name)}`);
}
// CI logs say which versions a run covered.
console.log(`jest.matrix.config.js: ${versions.join(', ')}, node ${process.versions.node}`);

/** @type {import('jest').Config} */
export default { ...base, moduleNameMapper };
