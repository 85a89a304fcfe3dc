/**
 * Which sessions a flag change can affect: `'all'`, or the union of the sessions of some users
 * (in any organization), in some organizations, and whose `feature_flags` claim holds one of
 * some slugs (a deleted flag). An object with no ids affects no session.
 */
export type FlagChangeScope =
  | 'all'
  | {
      users?: readonly string[];
      organizations?: readonly string[];
      flags?: readonly string[];
    };

/** What a change is matched against: who a session is for, and the flags its claim holds. */
export interface ChangeSubject {
  userId: string;
  organizationId?: string;
  featureFlags: readonly string[];
}

export interface FlagChangeLogLimits {
  /** Scoped entries older than this (ms) are folded into the all-sessions time. */
  retentionMs: number;
  /** Beyond this many scoped entries the oldest are folded into the all-sessions time. */
  maxEntries: number;
}

interface Entry {
  at: number;
  users: ReadonlySet<string>;
  organizations: ReadonlySet<string>;
  flags: ReadonlySet<string>;
}

/**
 * The recent flag changes and whom each affects, bounded in memory. A change that affects every
 * session is kept as one time (`allAt`); so is every scoped entry pruned for age or count,
 * which is conservative: the sessions older than it are all stale, affected or not.
 */
export class FlagChangeLog {
  private allAt = 0;
  private latestAt = 0;
  /** Scoped changes after `allAt`, oldest first. */
  private readonly entries: Entry[] = [];

  constructor(private readonly limits: FlagChangeLogLimits) {}

  /** Unix ms of the latest change of any scope; 0 before any. */
  get latest(): number {
    return this.latestAt;
  }

  /** Unix ms before which every session counts as stale (all-session changes, pruned entries). */
  get everyoneBefore(): number {
    return this.allAt;
  }

  /** Scoped entries held. */
  get size(): number {
    return this.entries.length;
  }

  /**
   * Records a change at `at`. False when it changes nothing: it affects no session, or an
   * all-session change at least as late already covers it.
   */
  record(at: number, scope: FlagChangeScope, now = Date.now()): boolean {
    if (at <= this.allAt) return false;
    if (scope === 'all') {
      this.allAt = at;
      // Entries no later than an all-session change say nothing more.
      let covered = 0;
      while (covered < this.entries.length && (this.entries[covered] as Entry).at <= at) covered++;
      this.entries.splice(0, covered);
    } else {
      const entry: Entry = {
        at,
        users: new Set(scope.users),
        organizations: new Set(scope.organizations),
        flags: new Set(scope.flags),
      };
      if (entry.users.size + entry.organizations.size + entry.flags.size === 0) return false;
      // Usually appended; a peer's change may arrive out of order.
      let index = this.entries.length;
      while (index > 0 && (this.entries[index - 1] as Entry).at > at) index--;
      this.entries.splice(index, 0, entry);
    }
    this.latestAt = Math.max(this.latestAt, at);
    this.prune(now);
    return true;
  }

  /**
   * The time of the latest change affecting `subject`, exact whenever it is later than `since`
   * (the time its claims are known current as of); otherwise some time no later than `since`.
   * Only entries newer than both `since` and the all-session time are looked at: usually none.
   */
  latestFor(subject: ChangeSubject, since: number): number {
    const floor = since > this.allAt ? since : this.allAt;
    for (let i = this.entries.length - 1; i >= 0; i--) {
      const entry = this.entries[i] as Entry;
      if (entry.at <= floor) break;
      if (entryAffects(entry, subject)) return entry.at;
    }
    return this.allAt;
  }

  private prune(now: number): void {
    const horizon = now - this.limits.retentionMs;
    let folded = 0;
    while (
      folded < this.entries.length &&
      ((this.entries[folded] as Entry).at < horizon ||
        this.entries.length - folded > this.limits.maxEntries)
    ) {
      this.allAt = Math.max(this.allAt, (this.entries[folded] as Entry).at);
      folded++;
    }
    this.entries.splice(0, folded);
  }
}

/** Whether a change of `scope` can affect a session of `subject`. */
export function scopeAffects(scope: FlagChangeScope, subject: ChangeSubject): boolean {
  if (scope === 'all') return true;
  return (
    (scope.users?.includes(subject.userId) ?? false) ||
    (subject.organizationId !== undefined &&
      (scope.organizations?.includes(subject.organizationId) ?? false)) ||
    subject.featureFlags.some((slug) => scope.flags?.includes(slug) ?? false)
  );
}

function entryAffects(entry: Entry, subject: ChangeSubject): boolean {
  if (entry.users.has(subject.userId)) return true;
  if (subject.organizationId !== undefined && entry.organizations.has(subject.organizationId)) {
    return true;
  }
  if (entry.flags.size === 0) return false;
  for (const slug of subject.featureFlags) if (entry.flags.has(slug)) return true;
  return false;
}

/** Whether a scope affects no session at all. */
export function isEmptyScope(scope: FlagChangeScope): boolean {
  return (
    scope !== 'all' && !scope.users?.length && !scope.organizations?.length && !scope.flags?.length
  );
}

/**
 * A scope read from outside (a peer's broadcast, a caller's argument): lists of strings, or
 * else `'all'`. A message without one (an older peer) meant every session.
 */
export function scopeFrom(value: unknown): FlagChangeScope {
  if (typeof value !== 'object' || value === null) return 'all';
  const { users, organizations, flags } = value as Record<string, unknown>;
  const lists = [users, organizations, flags];
  if (!lists.every((list) => list === undefined || isStringList(list))) return 'all';
  return {
    ...(users === undefined ? {} : { users: users as string[] }),
    ...(organizations === undefined ? {} : { organizations: organizations as string[] }),
    ...(flags === undefined ? {} : { flags: flags as string[] }),
  };
}

function isStringList(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((item) => typeof item === 'string');
}

/** A short description of a scope for logs (ids beyond the first few are counted). */
export function describeScope(scope: FlagChangeScope): string {
  if (scope === 'all') return 'every session';
  const part = (label: string, ids: readonly string[] | undefined) => {
    if (!ids?.length) return [];
    const shown = ids.slice(0, 3).join(', ');
    return [`${label}: ${shown}${ids.length > 3 ? ` (+${ids.length - 3} more)` : ''}`];
  };
  const parts = [
    ...part('users', scope.users),
    ...part('organizations', scope.organizations),
    ...part('claim holds', scope.flags),
  ];
  return `sessions (${parts.join('; ')})`;
}
