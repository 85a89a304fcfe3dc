import { Injectable } from '@nestjs/common';
import { currentResolution } from '../session/request-context.js';
import { FlagDrift, type FlagDriftStats } from './flag-drift.js';
import { ClaimsWatermark } from '../session/claims-watermark.js';
import { scopeFrom, type FlagChangeScope } from '../session/flag-change-log.js';
import { LiveFlags, type LiveRule } from './live-flags.js';

/** One flag's evaluation for a (user, organization), claim beside live. */
export interface FlagExplanation {
  slug: string;
  /** What the current request's token says, when it belongs to this user and organization. */
  claim?: boolean;
  /** The live configuration's answer; absent while live flags are off or unavailable. */
  live?: boolean;
  /**
   * What decided the live answer: `flag-off`, `user-target-on|off`, `custom-target-on|off`,
   * `organization-target-on|off` (a matching target serving false wins over one serving true),
   * `default-on|off`, `unknown-flag`.
   */
  rule: LiveRule | 'unavailable';
  /** Claim and live answer disagree: the token predates a change. */
  drift: boolean;
}

/**
 * Feature flags of the current request's session, and the tools to keep them fresh. Reads the
 * session of the request being handled: in handlers, resolvers (field resolvers too), gateway
 * handlers, and your guards that run after AuthKit's global one.
 *
 * @example
 * ```ts
 * @Get('dashboard')
 * dashboard() {
 *   return { charts: this.flags.isEnabled('new-charts') ? 'v2' : 'v1' };
 * }
 * ```
 */
@Injectable()
export class FlagService {
  constructor(
    private readonly live: LiveFlags,
    private readonly watermark: ClaimsWatermark,
    private readonly drift: FlagDrift,
  ) {}

  /** True when the flag is on for the current session; false without a session. */
  isEnabled(slug: string): boolean {
    return this.getAll().includes(slug);
  }

  /** Every flag on for the current session (its `feature_flags` claim). */
  getAll(): string[] {
    const resolution = currentResolution();
    return resolution?.ok ? [...resolution.session.featureFlags] : [];
  }

  /**
   * Declares that flags changed now: every session whose token was issued earlier is refreshed
   * (cookie), decided live (Bearer) or disconnected (WebSocket) on its next request. Call it
   * from your own change feed. With a scope, only the sessions of those users, in those
   * organizations, or whose claim holds those flags count as stale.
   *
   * @example
   * ```ts
   * this.flags.invalidate('billing sync'); // every session
   * this.flags.invalidate({ organizations: [orgId] }, 'plan upgraded'); // that org's sessions
   * this.flags.invalidate({ users: [userId], flags: ['beta'] });
   * ```
   */
  invalidate(detail?: string): void;
  invalidate(scope: Exclude<FlagChangeScope, 'all'>, detail?: string): void;
  invalidate(scopeOrDetail?: Exclude<FlagChangeScope, 'all'> | string, detail?: string): void {
    if (typeof scopeOrDetail === 'object') {
      // Checked as a peer's would be: anything but lists of ids means every session.
      this.watermark.move('invalidate', { detail, scope: scopeFrom(scopeOrDetail) });
    } else {
      this.watermark.move('invalidate', { detail: scopeOrDetail });
    }
  }

  /**
   * The effective evaluation of every flag for a user in an organization: the live answer,
   * the rule that decided it, and the claim of the current request's token when it is theirs.
   */
  explain(subject: { userId: string; organizationId?: string }): FlagExplanation[] {
    const resolution = currentResolution();
    const session =
      resolution?.ok &&
      resolution.session.userId === subject.userId &&
      resolution.session.organizationId === subject.organizationId
        ? resolution.session
        : undefined;
    const available = this.live.available;
    const slugs = new Set([
      ...(available ? this.live.slugs() : []),
      ...(session?.featureFlags ?? []),
    ]);
    return [...slugs].sort().map((slug) => {
      const claim = session ? session.featureFlags.includes(slug) : undefined;
      const live = available ? this.live.evaluate(slug, subject) : undefined;
      return {
        slug,
        ...(claim === undefined ? {} : { claim }),
        ...(live === undefined ? {} : { live: live.value }),
        rule: live?.rule ?? 'unavailable',
        drift: claim !== undefined && live !== undefined && claim !== live.value,
      };
    });
  }

  /** Claim/live disagreements seen by `@RequireFlag` decisions so far. */
  driftStats(): FlagDriftStats {
    return this.drift.stats();
  }
}
