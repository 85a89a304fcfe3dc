import type { FlagTargets } from './flag-targets.js';

/** One `@RequireFlag` decision, as the audit sink receives it. Never a token or cookie. */
export interface FlagDecision {
  event: 'flag_decision';
  allowed: boolean;
  flags: string[];
  mode: 'all' | 'any';
  /** Where the answer came from: the token's claim, or the live flag configuration. */
  source: 'claim' | 'live';
  /** The flags that were missing (deny) or on (allow). */
  missing: string[];
  iat: number;
  sid: string;
  user: string;
  org: string | null;
  /** The WorkOS admin impersonating the user (the `act` claim's `sub`), when one is. */
  impersonator?: string;
  /** The custom targets a live decision was evaluated with (`@RequireFlag(…, { targets })`). */
  targets?: FlagTargets;
  /** `Controller.handler` and the request path (no query string). */
  route: string;
  path: string;
  at: string;
}

/**
 * One access decision (`@RequirePermission`, `@RequireRole`, `@RequireOrganization` …), as
 * the audit sink receives it: which claim allowed or refused what. Never a token or cookie.
 */
export interface AccessDecision {
  event: 'access_decision';
  allowed: boolean;
  /** `permission`, `role`, `entitlement`, `organization`, `no-impersonation`, `recent-auth`, `claim`. */
  check: string;
  /** The claim read: `permissions`, `roles`, `entitlements`, `org_id`, `act`, `auth_time`, yours. */
  claim: string;
  /** What the route asked for: slugs, the request's tenant, the max age in seconds. */
  required: readonly string[];
  /** The slugs the token lacked. */
  missing: readonly string[];
  /** Why it was refused (`PERMISSION_DENIED`, `ORGANIZATION_MISMATCH` …). */
  reason?: string;
  iat: number;
  sid: string;
  user: string;
  org: string | null;
  /** The WorkOS admin impersonating the user (the `act` claim's `sub`), when one is. */
  impersonator?: string;
  route: string;
  path: string;
  at: string;
}

/** What the audit sink receives. */
export type AuditRecord = FlagDecision | AccessDecision;

/**
 * Receives every decision; keep it fast (it runs on the request path) and never throw.
 *
 * @example
 * ```ts
 * AuthKitModule.forRoot({ audit: { record: (d) => auditLog.write(d) } });
 * ```
 */
export interface FlagAuditSink {
  record(decision: AuditRecord): void;
}
