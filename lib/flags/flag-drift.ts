import { Injectable, Logger } from '@nestjs/common';
import { AuthKitMetrics } from '../metrics/authkit-metrics.js';

const MAX_REMEMBERED = 10_000;

/**
 * How often tokens' `feature_flags` claims disagreed with the live configuration since boot
 * (`FlagService.driftStats()`): a stale or surprising rule shows up here.
 *
 * @example
 * ```ts
 * const { total, byFlag }: FlagDriftStats = flags.driftStats();
 * ```
 */
export interface FlagDriftStats {
  /** Distinct (flag, organization, token) pairs whose claim disagreed with the live answer. */
  total: number;
  /** The same count per flag slug. */
  byFlag: Record<string, number>;
}

/**
 * Where a token's claim and the live configuration disagree: logged once per (flag,
 * organization, token) and counted, so a stale or surprising rule is visible.
 */
@Injectable()
export class FlagDrift {
  private readonly logger = new Logger('AuthKit');
  private readonly seen = new Set<string>();
  private total = 0;
  private readonly byFlag = new Map<string, number>();

  constructor(private readonly metrics: AuthKitMetrics) {}

  observe(
    slug: string,
    claim: boolean,
    live: boolean,
    token: { sid: string; iat: number; org: string | undefined },
  ): void {
    if (claim === live) return;
    const key = `${slug}\u0000${token.org ?? ''}\u0000${token.sid}\u0000${token.iat}`;
    if (this.seen.has(key)) return;
    if (this.seen.size >= MAX_REMEMBERED) this.seen.clear();
    this.seen.add(key);
    this.total++;
    this.byFlag.set(slug, (this.byFlag.get(slug) ?? 0) + 1);
    this.metrics.flagDrift(slug);
    this.logger.warn({
      event: 'flag_drift',
      flag: slug,
      claim,
      live,
      org: token.org ?? null,
      sid: token.sid,
      iat: token.iat,
    });
  }

  stats(): FlagDriftStats {
    return { total: this.total, byFlag: Object.fromEntries(this.byFlag) };
  }
}
