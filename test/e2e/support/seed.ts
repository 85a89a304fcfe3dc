import { WorkOSEmulator } from '../../../lib/testing/index.js';

export const ORG_A = 'org_01ACME_DEFAULT';
export const ORG_B = 'org_01BETA_OTHER';
export const ALICE = 'user_01ALICE';
export const BOB = 'user_01BOB';
/** Carol's token in ORG_A carries 200 permissions: its session seals far over 4 KiB. */
export const CAROL = 'user_01CAROL';
export const MANY_PERMISSIONS = Array.from(
  { length: 200 },
  (_, i) => `reports:resource-${String(i).padStart(3, '0')}:read`,
);

/**
 * Alice belongs to ORG_A first (the org WorkOS falls back to) and to ORG_B. `beta` is on for
 * ORG_B only, so a refresh that lost the organization would also lose the flag. Carol has 200
 * permissions in ORG_A and none in ORG_B (a small session that grows when she switches).
 */
export function startSeededEmulator(): Promise<WorkOSEmulator> {
  return WorkOSEmulator.start({
    users: [
      { id: ALICE, email: 'alice@example.test', firstName: 'Alice', lastName: 'Archer' },
      { id: BOB, email: 'bob@example.test', firstName: 'Bob', lastName: 'Baker' },
      { id: CAROL, email: 'carol@example.test', firstName: 'Carol', lastName: 'Cole' },
    ],
    organizations: [
      { id: ORG_A, name: 'Acme (default)' },
      { id: ORG_B, name: 'Beta Corp' },
    ],
    memberships: [
      { userId: ALICE, organizationId: ORG_A, role: 'member' },
      { userId: ALICE, organizationId: ORG_B, role: 'admin', permissions: ['reports:read'] },
      { userId: BOB, organizationId: ORG_A, role: 'member' },
      { userId: CAROL, organizationId: ORG_A, role: 'admin', permissions: MANY_PERMISSIONS },
      { userId: CAROL, organizationId: ORG_B, role: 'member' },
    ],
    flags: [
      { slug: 'beta', enabled: true, orgRule: 'some', organizations: [ORG_B] },
      { slug: 'alpha', enabled: true, orgRule: 'none' },
    ],
  });
}
