import { WorkOSEmulator } from '../../../lib/testing/index.js';

export const ORG_A = 'org_01ACME_DEFAULT';
export const ORG_B = 'org_01BETA_OTHER';
export const ALICE = 'user_01ALICE';
export const BOB = 'user_01BOB';

/**
 * Alice belongs to ORG_A first (the org WorkOS falls back to) and to ORG_B. `beta` is on for
 * ORG_B only, so a refresh that lost the organization would also lose the flag.
 */
export function startSeededEmulator(): Promise<WorkOSEmulator> {
  return WorkOSEmulator.start({
    users: [
      { id: ALICE, email: 'alice@example.test', firstName: 'Alice', lastName: 'Archer' },
      { id: BOB, email: 'bob@example.test', firstName: 'Bob', lastName: 'Baker' },
    ],
    organizations: [
      { id: ORG_A, name: 'Acme (default)' },
      { id: ORG_B, name: 'Beta Corp' },
    ],
    memberships: [
      { userId: ALICE, organizationId: ORG_A, role: 'member' },
      { userId: ALICE, organizationId: ORG_B, role: 'admin', permissions: ['reports:read'] },
      { userId: BOB, organizationId: ORG_A, role: 'member' },
    ],
    flags: [
      { slug: 'beta', enabled: true, orgRule: 'some', organizations: [ORG_B] },
      { slug: 'alpha', enabled: true, orgRule: 'none' },
    ],
  });
}
