import { Injectable } from '@nestjs/common';
import { currentEntry } from '../session/request-context.js';
import { ClaimsWatermark } from '../session/claims-watermark.js';
import { scopeFrom, type FlagChangeScope } from '../session/flag-change-log.js';
import type { AuthKitSession } from '../session/session.types.js';
import { FlagDrift, type FlagDriftStats } from './flag-drift.js';
import { flagContext } from './flag-evaluation.js';
import {
  FlagSources,
  type FlagSourceChoice,
  type FlagSourceUnavailable,
  type FlagSourceWish,
} from './flag-sources.js';
import { usableTargets, type FlagTargets } from './flag-targets.js';
import { LiveFlags, type LiveRule } from './live-flags.js';

/**
 * One flag's evaluation for a (user, organization), claim beside live: what
 * `FlagService.explain()` lists, for a support page or an admin endpoint.
 *
 * @example
 * ```ts
 * const drifting = flags.explain({ userId, organizationId }).filter((e: FlagExplanation) => e.drift);
 * ```
 */
export interface FlagExplanation {
  /** The flag's slug. */
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
 * How `FlagService.evaluate()` / `isEnabled()` decide; the same choices `@RequireFlag` has.
 *
 * @example
 * ```ts
 * const options: FlagCheckOptions = { fresh: { onUnavailable: 'claim' }, defaultValue: false };
 * this.flags.isEnabled('payouts', options);
 * ```
 */
export interface FlagCheckOptions {
  /**
   * Decide from the live configuration even when the claim is current. When it cannot answer,
   * the answer is `defaultValue` (`source: 'none'`), or the claim with `onUnavailable: 'claim'`.
   * @default false
   */
  fresh?:
    | boolean
    | {
        /**
         * While live flags cannot answer: `'deny'` (`defaultValue`, reason `FLAGS_UNAVAILABLE`)
         * or `'claim'` (the token's claim answers).
         * @default 'deny'
         */
        onUnavailable?: 'deny' | 'claim';
      };
  /** Custom targets (workspace, account …); they exist only live, so they imply `fresh`. */
  targets?: FlagTargets;
  /**
   * Evaluate for someone else than the current session (live only: their claim is not here).
   * Ignored when it names the current session's user and organization.
   */
  subject?: {
    /** The WorkOS user id (`user_…`). */
    userId: string;
    /** Their organization, for organization targets; none evaluates them outside one. */
    organizationId?: string;
  };
  /**
   * The answer when there is none: no session, no usable source, a flag live lacks.
   * @default false
   */
  defaultValue?: boolean;
}

/**
 * One flag decision and where it came from: what `FlagService.evaluate()` answers.
 *
 * @example
 * ```ts
 * const answer: FlagAnswer = this.flags.evaluate('beta');
 * if (answer.reason === 'FLAGS_UNAVAILABLE') this.logger.warn('beta decided by its default');
 * ```
 */
export interface FlagAnswer {
  /** The flag's slug, as asked. */
  slug: string;
  /** Whether the flag is on (`defaultValue` when `source` is `none`). */
  value: boolean;
  /** `claim` (the token), `live` (the live configuration), `none` (`defaultValue`, see `reason`). */
  source: 'claim' | 'live' | 'none';
  /** What decided a live answer (`user-target-off`, `default-on` …). */
  rule?: LiveRule;
  /**
   * Why there is no answer (`source: 'none'`), or why a claim answered though stale:
   * `NO_SESSION`, `FLAGS_UNAVAILABLE` (live asked for, not available), `STALE_CLAIMS` (a
   * Bearer or WebSocket claim predates a change and live flags cannot answer),
   * `REFRESH_UNAVAILABLE` (a cookie session could not be refreshed).
   */
  reason?: 'NO_SESSION' | FlagSourceUnavailable;
  /** The session's claim predates a change (or `maxClaimAge`) and was not refreshed. */
  stale: boolean;
  /** `iat` of the token the request arrived with (or was refreshed to). */
  iat?: number;
}

const NO_WISH: FlagSourceWish = {};
const LIVE_WISH: FlagSourceWish = { fresh: { onUnavailable: 'deny' } };
const LIVE_OR_CLAIM: FlagSourceWish = { fresh: { onUnavailable: 'claim' } };

/** The current request's session and which source answers for it. */
interface Situation {
  session: AuthKitSession;
  stale: boolean;
  refreshable: boolean;
  source: FlagSourceChoice;
}

/**
 * Feature flags of the current request's session, decided the way `@RequireFlag` decides them:
 * the token's claim while it is current; the live configuration when asked (`fresh`, custom
 * `targets`) or when the claim is stale and cannot be refreshed here (a Bearer token after a
 * flag change). Reads the session of the request being handled: in handlers, resolvers (field
 * resolvers too), gateway handlers, and your guards that run after AuthKit's global one.
 *
 * @example
 * ```ts
 * @Get('dashboard')
 * dashboard() {
 *   return { charts: this.flags.isEnabled('new-charts') ? 'v2' : 'v1' };
 * }
 * ```
 * @hideconstructor
 */
@Injectable()
export class FlagService {
  constructor(
    private readonly live: LiveFlags,
    private readonly watermark: ClaimsWatermark,
    private readonly drift: FlagDrift,
    private readonly sources: FlagSources,
  ) {}

  /**
   * True when the flag is on for the current session; false without one, or when no source
   * can answer (fail closed: see `evaluate()` for why).
   *
   * @example
   * ```ts
   * this.flags.isEnabled('beta');
   * this.flags.isEnabled('payouts', { fresh: true }); // live, as @RequireFlag({ fresh })
   * this.flags.isEnabled('export', { targets: { workspace: { id: wsId } } });
   * ```
   */
  isEnabled(slug: string, options?: FlagCheckOptions): boolean {
    if (options === undefined) {
      // The common call: no answer object, no context built while the claim answers.
      const situation = this.situation(NO_WISH);
      if (situation?.source === 'claim') return situation.session.featureFlags.includes(slug);
    }
    return this.evaluate(slug, options).value;
  }

  /**
   * The decision for one flag, with its source, the live rule that decided it and why a source
   * was unavailable.
   *
   * @example
   * ```ts
   * const { value, source, rule } = this.flags.evaluate('beta');
   * // { value: false, source: 'live', rule: 'user-target-off', stale: true, … }
   * ```
   */
  evaluate(slug: string, options: FlagCheckOptions = {}): FlagAnswer {
    const fallback = options.defaultValue ?? false;
    const targets = options.targets === undefined ? undefined : usableTargets(options.targets);
    const situation = this.situation(wishOf(options, targets !== undefined));
    const someoneElse =
      options.subject !== undefined &&
      (situation === undefined || !isSubject(situation.session, options.subject));
    if (someoneElse) return this.liveFor(slug, options.subject!, targets, fallback);
    if (!situation)
      return { slug, value: fallback, source: 'none', reason: 'NO_SESSION', stale: false };
    const { session, stale, refreshable, source } = situation;
    const iat = session.claims.iat;
    if (source === 'claim') {
      const value = session.featureFlags.includes(slug);
      return stale
        ? {
            slug,
            value,
            source,
            stale,
            iat,
            reason: refreshable ? 'REFRESH_UNAVAILABLE' : 'STALE_CLAIMS',
          }
        : { slug, value, source, stale, iat };
    }
    if (source === 'live') {
      const { value, rule } = this.live.evaluate(slug, flagContext(session, targets), fallback);
      return { slug, value, source, rule, stale, iat };
    }
    return { slug, value: fallback, source: 'none', reason: source, stale, iat };
  }

  /**
   * Every flag on for the current session: its claim, or the live configuration's flags that
   * are on for its user and organization when the claim is stale. Empty without a session or
   * when no source can answer.
   *
   * @example
   * ```ts
   * return { user, flags: this.flags.getAll() }; // for the client's own toggles
   * ```
   */
  getAll(): string[] {
    const situation = this.situation(NO_WISH);
    if (situation?.source === 'claim') return [...situation.session.featureFlags];
    if (situation?.source !== 'live') return [];
    const { userId, organizationId } = situation.session;
    return this.live
      .slugs()
      .filter((slug) => this.live.evaluate(slug, { userId, organizationId }).value);
  }

  /**
   * Where this request's flag answers come from (without `fresh`): `claim`, `live` (the claim is
   * stale and cannot be refreshed here), `none` (no session, or no source can answer).
   */
  currentSource(): 'claim' | 'live' | 'none' {
    const source = this.situation(NO_WISH)?.source;
    return source === 'claim' || source === 'live' ? source : 'none';
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
   * Calls `listener` after each recorded flag change (webhook, live configuration poll,
   * `invalidate()`, a peer instance's), with its time and the sessions it affects. Returns a
   * function that stops the calls.
   *
   * @example
   * ```ts
   * const stop = this.flags.onChange((at, scope) => cache.clear());
   * ```
   */
  onChange(listener: (at: number, scope: FlagChangeScope) => void): () => void {
    return this.watermark.onMove(listener);
  }

  /**
   * The effective evaluation of every flag for a user in an organization (and custom targets):
   * the live answer, the rule that decided it, and the claim of the current request's token
   * when it is theirs.
   *
   * @example
   * ```ts
   * this.flags.explain({ userId: 'user_1', organizationId: 'org_1' });
   * // [{ slug: 'beta', claim: true, live: false, rule: 'organization-target-off', drift: true }]
   * ```
   */
  explain(subject: {
    userId: string;
    organizationId?: string;
    targets?: FlagTargets;
  }): FlagExplanation[] {
    const resolution = currentEntry()?.resolution;
    const session =
      resolution?.ok && isSubject(resolution.session, subject) ? resolution.session : undefined;
    const available = this.live.available;
    const context = flagContext(subject, subject.targets && usableTargets(subject.targets));
    const slugs = new Set([
      ...(available ? this.live.slugs() : []),
      ...(session?.featureFlags ?? []),
    ]);
    return [...slugs].sort().map((slug) => {
      const claim = session ? session.featureFlags.includes(slug) : undefined;
      const live = available ? this.live.evaluate(slug, context) : undefined;
      return {
        slug,
        ...(claim === undefined ? {} : { claim }),
        ...(live === undefined ? {} : { live: live.value }),
        rule: live?.rule ?? 'unavailable',
        // The claim never holds custom targets: a difference they make is not drift.
        drift:
          claim !== undefined &&
          live !== undefined &&
          claim !== live.value &&
          live.rule !== 'custom-target-on' &&
          live.rule !== 'custom-target-off',
      };
    });
  }

  /** Claim/live disagreements seen by `@RequireFlag` decisions so far. */
  driftStats(): FlagDriftStats {
    return this.drift.stats();
  }

  private situation(wish: FlagSourceWish): Situation | undefined {
    const entry = currentEntry();
    const resolution = entry?.resolution;
    if (!entry || !resolution?.ok) return undefined;
    const { session } = resolution;
    const state = this.sources.stateOf(session, entry, resolution.stale === true);
    const source = this.sources.choose(wish, state);
    return { session, stale: state.stale, refreshable: state.refreshable, source };
  }

  /** Live only: someone else's claim is not at hand. */
  private liveFor(
    slug: string,
    { userId, organizationId }: { userId: string; organizationId?: string },
    targets: FlagTargets | undefined,
    fallback: boolean,
  ): FlagAnswer {
    if (!this.live.availableSince(this.watermark.flagsValue)) {
      return { slug, value: fallback, source: 'none', reason: 'FLAGS_UNAVAILABLE', stale: false };
    }
    const context = flagContext({ userId, organizationId }, targets);
    const { value, rule } = this.live.evaluate(slug, context, fallback);
    return { slug, value, source: 'live', rule, stale: false };
  }
}

function wishOf({ fresh }: FlagCheckOptions, hasTargets: boolean): FlagSourceWish {
  if (fresh)
    return typeof fresh === 'object' && fresh.onUnavailable === 'claim' ? LIVE_OR_CLAIM : LIVE_WISH;
  return hasTargets ? LIVE_WISH : NO_WISH;
}

function isSubject(
  session: AuthKitSession,
  subject: { userId: string; organizationId?: string },
): boolean {
  return session.userId === subject.userId && session.organizationId === subject.organizationId;
}
