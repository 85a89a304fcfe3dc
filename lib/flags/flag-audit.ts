import type { FlagTargets } from './flag-targets.js';

/**
 * One `@RequireFlag` decision, as the audit sink receives it. Never a token or cookie.
 *
 * @example
 * ```ts
 * const record = (d: FlagDecision) => d.allowed || metrics.denied(d.flags, d.source);
 * ```
 */
export interface FlagDecision {
  /** Tells it from an AccessDecision. */
  event: 'flag_decision';
  /** Whether the request went through. */
  allowed: boolean;
  /** The flags the route requires. */
  flags: string[];
  /** Every flag required, or one enough. */
  mode: 'all' | 'any';
  /** Where the answer came from: the token's claim, or the live flag configuration. */
  source: 'claim' | 'live';
  /** The flags that were missing (deny) or on (allow). */
  missing: string[];
  /** The token's issue time (seconds since the epoch): how old the claims were. */
  iat: number;
  /** The WorkOS session id. */
  sid: string;
  /** The user id (`sub`). */
  user: string;
  /** The token's organization, or null for a session outside one. */
  org: string | null;
  /** The WorkOS admin impersonating the user (the `act` claim's `sub`), when one is. */
  impersonator?: string;
  /** The custom targets a live decision was evaluated with (`@RequireFlag(…, { targets })`). */
  targets?: FlagTargets;
  /** `Controller.handler` and the request path (no query string). */
  route: string;
  /** The request path, without its query string. */
  path: string;
  /** When, as an ISO 8601 timestamp. */
  at: string;
}

/**
 * One access decision (`@RequirePermission`, `@RequireRole`, `@RequireOrganization` …), as
 * the audit sink receives it: which claim allowed or refused what. Never a token or cookie.
 *
 * @example
 * ```ts
 * const record = (d: AccessDecision) => d.allowed || log.warn(`${d.user} lacks ${d.missing}`);
 * ```
 */
export interface AccessDecision {
  /** Tells it from a FlagDecision. */
  event: 'access_decision';
  /** Whether the request went through. */
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
  /** The token's issue time (seconds since the epoch): how old the claims were. */
  iat: number;
  /** The WorkOS session id. */
  sid: string;
  /** The user id (`sub`). */
  user: string;
  /** The token's organization, or null for a session outside one. */
  org: string | null;
  /** The WorkOS admin impersonating the user (the `act` claim's `sub`), when one is. */
  impersonator?: string;
  /** `Controller.handler`. */
  route: string;
  /** The request path, without its query string. */
  path: string;
  /** When, as an ISO 8601 timestamp. */
  at: string;
}

/**
 * What the audit sink receives: tell the two apart by `event`.
 *
 * @example
 * ```ts
 * const sink: FlagAuditSink = {
 *   record: (r: AuditRecord) => (r.event === 'flag_decision' ? flagLog : accessLog).write(r),
 * };
 * ```
 */
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
  /** Called once per decision, allowed or refused, before the route runs (or is refused). */
  record(decision: AuditRecord): void;
}
