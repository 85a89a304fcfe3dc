import { Injectable } from '@nestjs/common';
import { ClaimsWatermark } from '../session/claims-watermark.js';
import type { SessionEntry } from '../session/request-context.js';
import { ClaimsFreshness } from '../session/claims-freshness.js';
import type { AuthKitSession } from '../session/session.types.js';
import { LiveFlags } from './live-flags.js';

/**
 * Why neither the claim nor the live configuration can answer.
 * @inline
 */
export type FlagSourceUnavailable = 'FLAGS_UNAVAILABLE' | 'STALE_CLAIMS' | 'REFRESH_UNAVAILABLE';

/** Where one decision's answer comes from, or why no source can give one. */
export type FlagSourceChoice = 'claim' | 'live' | FlagSourceUnavailable;

/** What a decision asks for: the live configuration, and what to do when it cannot answer. */
export interface FlagSourceWish {
  fresh?: { onUnavailable: 'deny' | 'claim' };
}

/** The state of one request's session, worked out once for all its decisions. */
export interface FlagSourceState {
  /** The claim cannot be trusted: it predates a change or `maxClaimAge` and was not refreshed. */
  stale: boolean;
  /** Live answers are polled after the last known change, recently enough. */
  live: boolean;
  /** A cookie session over HTTP, which the resolver refreshes when it can. */
  refreshable: boolean;
}

/**
 * The one rule that says where a flag decision comes from, for `@RequireFlag` guards and
 * `FlagService` alike, so both answer the same for the same request: the token's claim while
 * it is current; the live configuration for `fresh` decisions and for claims that are stale
 * and cannot be refreshed here (Bearer tokens, WebSocket connections, failed refreshes).
 */
@Injectable()
export class FlagSources {
  constructor(
    private readonly freshness: ClaimsFreshness,
    private readonly live: LiveFlags,
    private readonly watermark: ClaimsWatermark,
  ) {}

  /** The state of `session` as the current request holds it. */
  stateOf(
    session: AuthKitSession,
    entry: SessionEntry,
    refreshFailed: boolean,
    maxClaimAge?: number,
  ): FlagSourceState {
    // The resolver refreshed a stale cookie session over HTTP if it could; a Bearer token or a
    // WebSocket connection cannot be refreshed.
    const refreshable = session.source === 'cookie' && entry.carrier.res !== undefined;
    const stale = this.isStale(session, refreshable, refreshFailed, maxClaimAge, 'all');
    return { stale, live: this.live.availableSince(this.watermark.flagsValue), refreshable };
  }

  /**
   * Whether the claims cannot be trusted: the refresh failed, or the session cannot be
   * refreshed here and predates a change affecting it (of every kind, or with `'access'` only
   * memberships, roles and permissions: what a flag change leaves alone) or `maxClaimAge`.
   */
  isStale(
    session: AuthKitSession,
    refreshable: boolean,
    refreshFailed: boolean,
    maxClaimAge: number | undefined,
    changes: 'all' | 'access',
  ): boolean {
    return (
      refreshFailed ||
      (!refreshable &&
        this.freshness.freshAt(session) <
          this.freshness.staleBefore(session, maxClaimAge, undefined, changes))
    );
  }

  /** Claim, live, or why neither can answer. */
  choose(
    { fresh }: FlagSourceWish,
    { stale, live, refreshable }: FlagSourceState,
  ): FlagSourceChoice {
    if (!fresh && !stale) return 'claim';
    if (live) return 'live';
    if (fresh?.onUnavailable === 'claim') return 'claim';
    if (fresh) return 'FLAGS_UNAVAILABLE';
    return refreshable ? 'REFRESH_UNAVAILABLE' : 'STALE_CLAIMS';
  }
}
