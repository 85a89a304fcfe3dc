import type { ExecutionContext } from '@nestjs/common';
import type { AuthKitSession } from '../session/session.types.js';

/**
 * One access check a route declares, besides flags. Decided by AccessGuard after the session
 * is resolved, in the order of `ACCESS_ORDER`; each decision goes to the audit sink.
 */
export type AccessRequirement =
  | { kind: 'permission'; slugs: readonly string[]; mode: 'all' | 'any' }
  | { kind: 'role'; slugs: readonly string[] }
  | { kind: 'entitlement'; slugs: readonly string[]; mode: 'all' | 'any' }
  | { kind: 'organization'; tenantOf?: (context: ExecutionContext) => unknown; param?: string }
  | { kind: 'no-impersonation' }
  | { kind: 'recent-auth'; maxAge: number }
  | { kind: 'claim'; name: string; test: (value: unknown, session: AuthKitSession) => boolean }
  | { kind: 'credential'; kinds: readonly CredentialKind[] };

/** Where a principal's credential came from: `AuthKitSession.source`. */
export type CredentialKind = AuthKitSession['source'];

export type AccessKind = AccessRequirement['kind'];

/**
 * Who is refused first when several checks fail: who the caller is (impersonation, tenant),
 * then how recently they signed in (a 401 that a new sign-in cures), then what they hold.
 */
export const ACCESS_ORDER: Readonly<Record<AccessKind, number>> = {
  credential: -1,
  'no-impersonation': 0,
  organization: 1,
  'recent-auth': 2,
  role: 3,
  permission: 4,
  entitlement: 5,
  claim: 6,
};
