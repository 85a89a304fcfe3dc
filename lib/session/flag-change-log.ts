/**
 * Which sessions a flag change can affect: `'all'`, or the union of the sessions of some users
 * (in any organization), in some organizations, and whose `feature_flags` claim holds one of
 * some slugs (a deleted flag). An object with no ids affects no session.
 *
 * @example
 * ```ts
 * this.flags.onChange((at, scope: FlagChangeScope) => {
 *   if (scope === 'all' || scope.organizations?.includes(orgId)) cache.clear();
 * });
 * ```
 */
export type FlagChangeScope =
  | 'all'
  | {
      /** User ids: their sessions, in any organization. */
      users?: readonly string[];
      /** Organization ids: every session in them. */
      organizations?: readonly string[];
      /** Flag slugs: the sessions whose claim holds one. */
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
  /** Beyond this many ids over all entries, likewise (one change may name thousands). */
  maxIds: number;
}

interface Entry {
  at: number;
  users: readonly string[];
  organizations: readonly string[];
  flags: readonly string[];
}

type Kind = 'users' | 'organizations' | 'flags';
const KINDS: readonly Kind[] = ['users', 'organizations', 'flags'];

/**
 * The recent flag changes and whom each affects, bounded in memory. A change that affects every
 * session is kept as one time (`allAt`); so is every scoped entry pruned for age or count,
 * which is conservative: the sessions older than it are all stale, affected or not. Each id
 * (user, organization, flag) maps to the latest entry naming it, so a session is judged with
 * a few map lookups however many entries there are, and none when no entry is newer than it.
 */
export class FlagChangeLog {
  private allAt = 0;
  private latestAt = 0;
  /** Scoped changes after `allAt`, oldest first (pruned from the front). */
  private readonly entries: Entry[] = [];
  private ids = 0;
  private readonly latestById: Record<Kind, Map<string, number>> = {
    users: new Map(),
    organizations: new Map(),
    flags: new Map(),
  };

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
      this.foldThrough(at);
    } else {
      const entry: Entry = {
        at,
        users: [...new Set(scope.users)],
        organizations: [...new Set(scope.organizations)],
        flags: [...new Set(scope.flags)],
      };
      const ids = entry.users.length + entry.organizations.length + entry.flags.length;
      if (ids === 0) return false;
      // Usually appended; a peer's change may arrive out of order.
      let index = this.entries.length;
      while (index > 0 && (this.entries[index - 1] as Entry).at > at) index--;
      this.entries.splice(index, 0, entry);
      this.ids += ids;
      for (const kind of KINDS) {
        const latest = this.latestById[kind];
        for (const id of entry[kind]) {
          if ((latest.get(id) ?? 0) < at) latest.set(id, at);
        }
      }
    }
    this.latestAt = Math.max(this.latestAt, at);
    this.prune(now);
    return true;
  }

  /**
   * The time of the latest change affecting `subject`, exact whenever it is later than `since`
   * (a time its claims are known current as of); otherwise some time no later than `since`.
   * When no scoped entry is newer than `since` (the usual case) no map is looked at.
   */
  latestFor(subject: ChangeSubject, since: number): number {
    const floor = since > this.allAt ? since : this.allAt;
    const newest = this.entries.length === 0 ? 0 : (this.entries.at(-1) as Entry).at;
    if (newest <= floor) return this.allAt;
    let latest = this.allAt;
    const { users, organizations, flags } = this.latestById;
    const byUser = users.get(subject.userId);
    if (byUser !== undefined && byUser > latest) latest = byUser;
    if (subject.organizationId !== undefined) {
      const byOrganization = organizations.get(subject.organizationId);
      if (byOrganization !== undefined && byOrganization > latest) latest = byOrganization;
    }
    if (flags.size > 0) {
      for (const slug of subject.featureFlags) {
        const byFlag = flags.get(slug);
        if (byFlag !== undefined && byFlag > latest) latest = byFlag;
      }
    }
    return latest;
  }

  private prune(now: number): void {
    const horizon = now - this.limits.retentionMs;
    let through = this.allAt;
    for (let i = 0, entries = this.entries.length, ids = this.ids; i < this.entries.length; i++) {
      const entry = this.entries[i] as Entry;
      if (entry.at >= horizon && entries <= this.limits.maxEntries && ids <= this.limits.maxIds) {
        break;
      }
      through = entry.at;
      entries--;
      ids -= entry.users.length + entry.organizations.length + entry.flags.length;
    }
    if (through > this.allAt) this.foldThrough(through);
  }

  /** Makes `at` an all-session change: the entries it covers, and their ids, are dropped. */
  private foldThrough(at: number): void {
    this.allAt = at;
    let covered = 0;
    while (covered < this.entries.length && (this.entries[covered] as Entry).at <= at) {
      const entry = this.entries[covered] as Entry;
      for (const kind of KINDS) {
        const latest = this.latestById[kind];
        // A later entry naming the same id keeps it.
        for (const id of entry[kind]) if ((latest.get(id) ?? 0) <= at) latest.delete(id);
      }
      this.ids -= entry.users.length + entry.organizations.length + entry.flags.length;
      covered++;
    }
    this.entries.splice(0, covered);
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
