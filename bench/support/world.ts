// The world the out-of-process benches share: one user in one organization with `beta` on, and
// a session cookie that outlives the whole run (an expiry mid-row would make it a refresh bench).
import { WorkOSEmulator } from '../../lib/testing/index.js';

export const PASSWORD = 'bench-cookie-password-0123456789abcdef';

export interface BenchWorld {
  emulator: WorkOSEmulator;
  /** `wos-session=<sealed>`, ready for a Cookie header. */
  cookie: string;
  /** Spread into AuthKitModule.forRoot(). */
  authkit: ReturnType<WorkOSEmulator['connection']> & { cookiePassword: string };
}

export async function startBenchWorld(): Promise<BenchWorld> {
  const emulator = await WorkOSEmulator.start({
    users: [{ id: 'user_bench', email: 'bench@example.test' }],
    organizations: [{ id: 'org_bench', name: 'Bench' }],
    memberships: [{ userId: 'user_bench', organizationId: 'org_bench', role: 'member' }],
    flags: [{ slug: 'beta', enabled: true, orgRule: 'all' }],
    accessTokenTtlSeconds: 3600,
  });
  const session = await emulator.createSession({
    userId: 'user_bench',
    organizationId: 'org_bench',
  });
  return {
    emulator,
    cookie: `wos-session=${emulator.sealSession(session, PASSWORD)}`,
    authkit: { ...emulator.connection(), cookiePassword: PASSWORD },
  };
}
