import { Inject, Injectable } from '@nestjs/common';
import { AUTHKIT_CONFIG } from '../authkit.constants.js';
import type { AuthKitConfig } from '../authkit.options.js';
import type { RefreshCause } from '../metrics/refresh-cause.js';
import { ClaimsWatermark } from './claims-watermark.js';
import { refreshDueAt } from './refresh-due.js';
import type { AuthKitSession } from './session.types.js';

/**
 * The staleness rule: when a session's claims stop counting as current (a change that can
 * affect it, or `maxClaimAge`), when they are known current from, and which of those made a
 * refresh happen.
 *
 * @example
 * ```ts
 * const stale = freshness.freshAt(session) < freshness.staleBefore(session);
 * ```
 */
@Injectable()
export class ClaimsFreshness {
  /**
   * Sessions this process refreshed, with when their exchange started: `iat` has whole seconds
   * only, and a token issued in the same second as a flag change would otherwise look stale.
   */
  private readonly freshSince = new WeakMap<AuthKitSession, number>();

  constructor(
    @Inject(AUTHKIT_CONFIG) private readonly config: AuthKitConfig,
    private readonly watermark: ClaimsWatermark,
  ) {}

  /**
   * Unix ms before which this session's claims count as stale: the latest change that can
   * affect it (its user, organization or claimed flags), or `maxClaimAge` ago, whichever is
   * later. `changes: 'access'` counts access changes only (memberships, roles, permissions):
   * what roles and permissions go stale by, as a flag change leaves them as they were. Exact
   * whenever the session is stale; otherwise no later than its `freshAt`.
   */
  staleBefore(
    session: AuthKitSession,
    maxClaimAge = this.config.maxClaimAge,
    now = Date.now(),
    changes: 'all' | 'access' = 'all',
  ): number {
    // `iat` bounds the scan as well as `freshAt` would (no later), without its WeakMap lookup.
    const since = session.claims.iat * 1000;
    const changed =
      changes === 'all'
        ? this.watermark.latestFor(session, since)
        : this.watermark.latestAccessFor(session, since);
    const aged = maxClaimAge === undefined ? 0 : now - maxClaimAge * 1000;
    return changed > aged ? changed : aged;
  }

  /** Unix ms as of which the session's claims are known to be current. */
  freshAt(session: AuthKitSession): number {
    return Math.max(session.claims.iat * 1000, this.freshSince.get(session) ?? 0);
  }

  /** A session this process refreshed is current as of its exchange's start (unix ms). */
  refreshedAt(session: AuthKitSession, startedAt: number): void {
    this.freshSince.set(session, startedAt);
  }

  /**
   * Why a still-valid cookie session is refreshed. Due first: it would have been refreshed
   * anyway, so only the refreshes a flag change or `maxClaimAge` added are counted as theirs.
   */
  refreshCause(session: AuthKitSession): RefreshCause {
    if (refreshDueAt(session.claims, this.config.refreshBufferSeconds) <= Date.now() / 1000) {
      return 'expiry';
    }
    // Not due, so stale: by a change affecting it if one came after its claims, else by age.
    const freshAt = this.freshAt(session);
    // Named for the latest change after its claims (access changes are in both logs).
    const latest = this.watermark.latestFor(session, freshAt);
    if (latest <= freshAt) return 'max_age';
    return this.watermark.latestAccessFor(session, freshAt) >= latest
      ? 'access_change'
      : 'flag_change';
  }
}
