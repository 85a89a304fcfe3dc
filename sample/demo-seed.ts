import type { WorkOSEmulatorOptions } from 'nestjs-authkit/testing';

export const ACME = 'org_01ACME';
export const GLOBEX = 'org_01GLOBEX';
export const INITECH = 'org_01INITECH';

/**
 * The demo world: Alice belongs to Acme (her first, default organization) and Globex, Bob to
 * Globex, Carol to Initech; Alice manages Acme's members (`members:manage`), not Globex's.
 * `beta` targets Acme only: widen it to All on the flags page to
 * reproduce the reported scenario and watch what each organization's token says.
 */
export const demoSeed: WorkOSEmulatorOptions = {
  users: [
    { id: 'user_01ALICE', email: 'alice@example.com', firstName: 'Alice', lastName: 'Archer' },
    { id: 'user_01BOB', email: 'bob@example.com', firstName: 'Bob', lastName: 'Baker' },
    { id: 'user_01CAROL', email: 'carol@example.com', firstName: 'Carol', lastName: 'Chen' },
  ],
  organizations: [
    { id: ACME, name: 'Acme Corp' },
    { id: GLOBEX, name: 'Globex' },
    { id: INITECH, name: 'Initech' },
  ],
  memberships: [
    {
      userId: 'user_01ALICE',
      organizationId: ACME,
      role: 'admin',
      permissions: ['reports:read', 'members:manage'],
    },
    { userId: 'user_01ALICE', organizationId: GLOBEX, role: 'member' },
    { userId: 'user_01BOB', organizationId: GLOBEX, role: 'admin' },
    { userId: 'user_01CAROL', organizationId: INITECH, role: 'member' },
  ],
  flags: [
    {
      slug: 'beta',
      enabled: true,
      orgRule: 'some',
      organizations: [ACME],
      description: 'Beta reports: Acme only, for now',
    },
    {
      slug: 'alpha',
      enabled: true,
      orgRule: 'none',
      users: ['user_01BOB'],
      description: 'Alpha tools: Bob only',
    },
    { slug: 'new-billing', enabled: false, orgRule: 'all', description: 'Not launched yet' },
  ],
};
