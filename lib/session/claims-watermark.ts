import {
  Inject,
  Injectable,
  Logger,
  type OnModuleDestroy,
  type OnModuleInit,
} from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { AUTHKIT_CONFIG } from '../authkit.constants.js';
import type { AuthKitConfig } from '../authkit.options.js';
import { AuthKitMetrics } from '../metrics/authkit-metrics.js';
import { storeKeys } from '../store/store.js';
import {
  describeScope,
  FlagChangeLog,
  isEmptyScope,
  scopeFrom,
  type ChangeSubject,
  type FlagChangeScope,
} from './flag-change-log.js';

/** A peer clock this far ahead is worth a (single) warning. */
const FUTURE_WARNING_MS = 5_000;
/**
 * Scoped changes are kept at least this long (or `maxClaimAge`, if longer): longer than an
 * access token lives (WorkOS: minutes). An older session is judged against the folded time.
 */
const MIN_RETENTION_MS = 60 * 60_000;
/** Scoped changes kept at most; beyond, the oldest count as all-session changes. */
const MAX_ENTRIES = 1_000;
/** Ids (users, organizations, flags) kept at most over all changes, likewise. */
const MAX_IDS = 100_000;

export type WatermarkSource = 'webhook' | 'runtime' | 'invalidate' | 'peer';

/**
 * What changed: the flags a claim holds (`flags`), or who may do what — memberships, roles,
 * permissions (`access`). Both make the affected sessions' claims stale alike; logs tell them
 * apart.
 *
 * @example
 * ```ts
 * watermark.move('webhook', { kind: 'access', scope: { users: [userId] } });
 * ```
 */
export type ClaimsChangeKind = 'flags' | 'access';

export interface FlagChange {
  /** Default `flags`. */
  kind?: ClaimsChangeKind;
  /** A short label for logs, e.g. the event and slug. */
  detail?: string;
  /** The sessions it can affect; default every session. */
  scope?: FlagChangeScope;
  /** Unix ms; default now. */
  at?: number;
}

interface Broadcast {
  at: number;
  source: WatermarkSource;
  /** Absent from older instances: flags. */
  kind?: ClaimsChangeKind;
  detail?: string;
  /** Absent from older instances: every session. */
  scope?: FlagChangeScope;
  from: string;
}

/**
 * The recent claim changes — flags, and access (memberships, roles, permissions) — and the
 * sessions each can affect (a short change log; see FlagChangeLog). A session whose token was
 * issued before the latest change affecting it carries claims (`feature_flags`, `role`,
 * `permissions`) that may no longer match the dashboard: it is refreshed (cookies), decided
 * live or refused as stale on flag routes (Bearer) or disconnected (sockets). With a shared
 * store, a change seen by one instance (say, the one that received the webhook) is broadcast
 * to all.
 */
@Injectable()
export class ClaimsWatermark implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger('AuthKit');
  private readonly id = randomBytes(8).toString('hex');
  private readonly log: FlagChangeLog;
  /** Access changes alone: roles and permissions do not go stale when only a flag changed. */
  private readonly accessLog: FlagChangeLog;
  private readonly listeners = new Set<(at: number, scope: FlagChangeScope) => void>();
  private unsubscribe?: () => void;
  private warnedFuture = false;
  private latestFlagChange = 0;

  constructor(
    @Inject(AUTHKIT_CONFIG) private readonly config: AuthKitConfig,
    private readonly metrics: AuthKitMetrics,
  ) {
    const limits = {
      retentionMs: Math.max(MIN_RETENTION_MS, (config.maxClaimAge ?? 0) * 1000),
      maxEntries: MAX_ENTRIES,
      maxIds: MAX_IDS,
    };
    this.log = new FlagChangeLog(limits);
    this.accessLog = new FlagChangeLog(limits);
  }

  async onModuleInit(): Promise<void> {
    const { store } = this.config;
    if (!store.shared) return;
    this.unsubscribe = await store.subscribe(storeKeys.watermarkChannel(store), (message) => {
      try {
        const peer = JSON.parse(message) as Broadcast;
        if (peer.from !== this.id && typeof peer.at === 'number' && Number.isFinite(peer.at)) {
          this.apply(
            this.clamp(peer.at),
            'peer',
            `${peer.source}${peer.detail ? ` ${peer.detail}` : ''}`,
            scopeFrom(peer.scope),
            peer.kind === 'access' ? 'access' : 'flags',
          );
        }
      } catch {
        // Not ours: ignore.
      }
    });
  }

  onModuleDestroy(): void {
    this.unsubscribe?.();
  }

  /** Unix milliseconds of the latest change of any scope; 0 before any. */
  get value(): number {
    return this.log.latest;
  }

  /**
   * Unix ms of the latest flag change (access changes left out): the live flag configuration
   * must have been polled after it to answer, and a role change says nothing about flags.
   */
  get flagsValue(): number {
    return this.latestFlagChange;
  }

  /**
   * Unix ms of the latest change affecting a session of `subject`, exact whenever it is later
   * than `since` (when its claims are known current); otherwise no later than `since`.
   */
  latestFor(subject: ChangeSubject, since: number): number {
    return this.log.latestFor(subject, since);
  }

  /** As `latestFor`, counting access changes only (memberships, roles, permissions). */
  latestAccessFor(subject: ChangeSubject, since: number): number {
    return this.accessLog.latestFor(subject, since);
  }

  /** Records a change seen now (or at `change.at`) and tells the other instances. */
  move(source: WatermarkSource, change: FlagChange = {}): void {
    const { detail, scope = 'all', at = Date.now(), kind = 'flags' } = change;
    if (!this.apply(at, source, detail, scope, kind)) return;
    const { store } = this.config;
    if (!store.shared) return;
    const message: Broadcast = { at, source, kind, detail, scope, from: this.id };
    store.publish(storeKeys.watermarkChannel(store), JSON.stringify(message)).catch(() => {
      this.metrics.storeFallback('broadcast');
      this.logger.warn(
        `${kind === 'access' ? 'access' : 'flag'} change not broadcast: store unavailable`,
      );
    });
  }

  /**
   * A peer's clock may run ahead: a change it dates in our future would make every session it
   * affects look stale until our clock caught up. It happened at the latest now, here.
   */
  private clamp(at: number): number {
    const now = Date.now();
    if (at <= now) return at;
    if (at - now > FUTURE_WARNING_MS && !this.warnedFuture) {
      this.warnedFuture = true;
      this.logger.warn(
        `a peer dated a flag change ${Math.round((at - now) / 1000)} s in the future: its clock ` +
          'is off; its changes count as of when they arrive here',
      );
    }
    return now;
  }

  /** Called with each change recorded here (from this instance or a peer); returns a stop. */
  onMove(listener: (at: number, scope: FlagChangeScope) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private apply(
    at: number,
    source: WatermarkSource,
    detail: string | undefined,
    scope: FlagChangeScope,
    kind: ClaimsChangeKind,
  ): boolean {
    const label = `${source}${detail ? `: ${detail}` : ''}`;
    const what = kind === 'access' ? 'access changed' : 'flags changed';
    if (isEmptyScope(scope)) {
      this.logger.log(`${what} (${label}): no session's claims are affected`);
      return false;
    }
    if (!this.log.record(at, scope)) return false;
    if (kind === 'flags' && at > this.latestFlagChange) this.latestFlagChange = at;
    if (kind === 'access') this.accessLog.record(at, scope);
    this.logger.log(
      `${what} (${label}): ${describeScope(scope)} issued before ` +
        `${new Date(at).toISOString()} are refreshed on their next request`,
    );
    for (const listener of this.listeners) listener(at, scope);
    return true;
  }
}
