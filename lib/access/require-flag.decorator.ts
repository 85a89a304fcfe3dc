import { applyDecorators, UseGuards } from '@nestjs/common';
import { FLAG_REQUIREMENT } from '../flags/flag-requirement.metadata.js';
import { AccessGuard } from './access.guard.js';
import type { FlagTargetsOf } from '../flags/flag-targets.js';

/**
 * How `@RequireFlag` decides: all flags or any, from the claim or live, for which targets.
 *
 * @example
 * ```ts
 * const sensitive: RequireFlagOptions = { fresh: { onUnavailable: 'deny' }, deniedStatus: 404 };
 * @RequireFlag('payouts', sensitive)
 * ```
 */
export interface RequireFlagOptions {
  /** 'all' (default): every listed flag must be on; 'any': one is enough. */
  mode?: 'all' | 'any';
  /**
   * Decide from the live flag configuration (the SDK's runtime client, in memory) instead of
   * the token's claim. When live answers are unavailable the request fails closed (503
   * `FLAGS_UNAVAILABLE`) unless `{ onUnavailable: 'claim' }`.
   */
  fresh?:
    | boolean
    | {
        /**
         * While the live configuration cannot answer: `'deny'` (503 `FLAGS_UNAVAILABLE`) or
         * `'claim'` (the token's claim answers).
         * @default 'deny'
         */
        onUnavailable?: 'deny' | 'claim';
      };
  /**
   * The request's custom targets (workspace, account, tenant …), read per request. WorkOS never
   * writes custom targets into the claim, so a requirement that names them is decided live, as
   * with `fresh: true` (503 `FLAGS_UNAVAILABLE` while the live configuration cannot answer,
   * unless `fresh: { onUnavailable: 'claim' }`, where the claim answers without them).
   *
   * @example
   * ```ts
   * @RequireFlag('workspace-export', {
   *   targets: (_session, req) => ({ workspace: { id: (req as Request).params.workspaceId } }),
   * })
   * ```
   */
  targets?: FlagTargetsOf;
  /** Seconds: a cookie session whose token is older is refreshed (organization kept) first. */
  maxClaimAge?: number;
  /**
   * How a denied flag answers: 403 `FLAG_DISABLED`, or 404 to hide that the feature exists.
   * @default the module's `flags.deniedStatus` (403)
   */
  deniedStatus?: 403 | 404;
}

/**
 * Lets a request through only when the flag(s) are on for the session: by its `feature_flags`
 * claim, or by the live configuration with `fresh` (and for a stale Bearer token). 401 without
 * a session, 403 with the flag off. Brings its own guard; on a controller and a method both
 * must hold.
 *
 * @example
 * ```ts
 * @RequireFlag('new-billing')                       // the token's claim
 * @RequireFlag(['a', 'b'], { mode: 'any' })         // one of them
 * @RequireFlag('payouts', { fresh: true })          // re-checked live: sensitive
 * @RequireFlag('beta', { maxClaimAge: 60 })         // claims at most a minute old
 * ```
 */
export function RequireFlag(
  flags: string | readonly string[],
  options: RequireFlagOptions = {},
): ClassDecorator & MethodDecorator {
  const list = typeof flags === 'string' ? [flags] : [...flags];
  if (list.length === 0 || list.some((flag) => typeof flag !== 'string' || flag.length === 0)) {
    throw new Error('@RequireFlag() needs one or more non-empty flag slugs.');
  }
  const { maxClaimAge, deniedStatus, targets } = options;
  if (targets !== undefined && typeof targets !== 'function') {
    throw new Error(
      '@RequireFlag() targets must be a function (session, request, context) => targets.',
    );
  }
  // Custom targets exist only in the live configuration.
  const fresh = options.fresh || (targets ? true : undefined);
  if (deniedStatus !== undefined && deniedStatus !== 403 && deniedStatus !== 404) {
    throw new Error('@RequireFlag() deniedStatus must be 403 or 404.');
  }
  if (maxClaimAge !== undefined && !(Number.isFinite(maxClaimAge) && maxClaimAge > 0)) {
    throw new Error('@RequireFlag() maxClaimAge must be a positive number of seconds.');
  }
  return applyDecorators(
    FLAG_REQUIREMENT({
      flags: list,
      mode: options.mode ?? 'all',
      ...(fresh
        ? { fresh: { onUnavailable: fresh === true ? 'deny' : (fresh.onUnavailable ?? 'deny') } }
        : {}),
      ...(maxClaimAge !== undefined ? { maxClaimAge } : {}),
      ...(targets ? { targets } : {}),
      ...(deniedStatus !== undefined ? { deniedStatus } : {}),
    }),
    UseGuards(AccessGuard),
  );
}
