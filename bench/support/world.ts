// The world the out-of-process benches share: one user in one organization with `beta` on and
// the `reports:read` permission, and a session cookie that outlives the whole run (an expiry
// mid-row would make it a refresh bench). A second membership, without the permission, gives
// the access bench a session its permission check must refuse.
import { WorkOSEmulator } from '../../lib/testing/index.js';

export const PASSWORD = 'bench-cookie-password-0123456789abcdef';

/**
 * The organization of every bench session, and the tenant the access routes name.
 *
 * @example
 * ```ts
 * await emulator.createSession({ userId: 'user_bench', organizationId: ORGANIZATION });
 * ```
 */
export const ORGANIZATION = 'org_bench';

/**
 * An organization the bench user belongs to without {@link PERMISSION}: a session there must
 * be refused by `@RequirePermission(PERMISSION)`.
 *
 * @example
 * ```ts
 * await emulator.createSession({ userId: 'user_bench', organizationId: OTHER_ORGANIZATION });
 * ```
 */
export const OTHER_ORGANIZATION = 'org_bench_plain';

/**
 * The permission the bench user holds in {@link ORGANIZATION} (its token's `permissions`).
 *
 * @example
 * ```ts
 * @RequirePermission(PERMISSION)
 * ```
 */
export const PERMISSION = 'reports:read';

export interface BenchWorld {
  emulator: WorkOSEmulator;
  /** `wos-session=<sealed>`, ready for a Cookie header. */
  cookie: string;
  /** Spread into AuthKitModule.forRoot(). */
  authkit: ReturnType<WorkOSEmulator['moduleOptions']> & { cookiePassword: string };
}

export async function startBenchWorld(): Promise<BenchWorld> {
  const emulator = await WorkOSEmulator.start({
    users: [{ id: 'user_bench', email: 'bench@example.test' }],
    organizations: [
      { id: ORGANIZATION, name: 'Bench' },
      { id: OTHER_ORGANIZATION, name: 'Bench, no permissions' },
    ],
    // The first membership is the user's default organization.
    memberships: [
      {
        userId: 'user_bench',
        organizationId: ORGANIZATION,
        role: 'member',
        permissions: [PERMISSION],
      },
      { userId: 'user_bench', organizationId: OTHER_ORGANIZATION, role: 'member' },
    ],
    flags: [{ slug: 'beta', enabled: true, orgRule: 'all' }],
    accessTokenTtlSeconds: 3600,
  });
  const session = await emulator.createSession({
    userId: 'user_bench',
    organizationId: ORGANIZATION,
  });
  return {
    emulator,
    cookie: `wos-session=${emulator.sealSession(session, PASSWORD)}`,
    authkit: { ...emulator.moduleOptions(), cookiePassword: PASSWORD },
  };
}
