import { startSample } from './bootstrap.js';
import { ACME } from './demo-seed.js';

const sample = await startSample();
const lines = [`nestjs-authkit sample: open ${sample.url}`];
if (sample.demo) {
  const { emulator, flagsUrl } = sample.demo;
  const token = await emulator.createSession({
    userId: 'user_01ALICE',
    organizationId: ACME,
    accessTokenExpiresIn: 3600,
  });
  // An organization API key, as an Acme admin would create one in the WorkOS dashboard.
  const apiKey = emulator.createApiKey({
    owner: { type: 'organization', id: ACME },
    name: 'Usage exporter',
    permissions: ['usage:read'],
  });
  lines.push(
    `WorkOS emulator (no account needed): ${emulator.url}`,
    `Flags admin page: ${flagsUrl}`,
    'Try the JSON API with a Bearer token (Alice in Acme, valid 1 hour):',
    `  curl -H 'Authorization: Bearer ${token.accessToken}' ${sample.url}api/me`,
    'A route for WorkOS API keys (Acme\'s "Usage exporter" key, usage:read):',
    `  curl -H 'Authorization: Bearer ${apiKey.value}' ${sample.url}api/usage`,
    'And GraphQL:',
    `  curl -H 'Authorization: Bearer ${token.accessToken}' -H 'Content-Type: application/json' \\`,
    `    -d '{"query":"{ viewer { userId featureFlags betaReports { title } } }"}' ${sample.url}graphql`,
  );
} else {
  lines.push('Using WorkOS with WORKOS_API_KEY / WORKOS_CLIENT_ID from the environment.');
}
console.log(lines.join('\n'));
