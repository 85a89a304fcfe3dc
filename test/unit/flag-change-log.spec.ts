import {
  FlagChangeLog,
  scopeAffects,
  scopeFrom,
  type ChangeSubject,
} from '../../lib/session/flag-change-log.js';

const T = 1_800_000_000_000;
const HOUR = 3_600_000;
const aliceA: ChangeSubject = { userId: 'user_alice', organizationId: 'org_A', featureFlags: [] };
const bobB: ChangeSubject = { userId: 'user_bob', organizationId: 'org_B', featureFlags: ['beta'] };
const carol: ChangeSubject = { userId: 'user_carol', featureFlags: [] };

const newLog = (maxEntries = 1_000, maxIds = 100_000) =>
  new FlagChangeLog({ retentionMs: HOUR, maxEntries, maxIds });

describe('FlagChangeLog', () => {
  it('a scoped change dates only the sessions it names; value-of-any-scope moves for all', () => {
    const log = newLog();
    expect(log.record(T, { organizations: ['org_A'] }, T)).toBe(true);
    expect(log.latest).toBe(T);
    expect(log.latestFor(aliceA, T - 1000)).toBe(T);
    expect(log.latestFor(bobB, T - 1000)).toBe(0);
    expect(log.latestFor(carol, T - 1000)).toBe(0);

    log.record(T + 1, { users: ['user_carol'] }, T + 1);
    log.record(T + 2, { flags: ['beta'] }, T + 2);
    expect(log.latestFor(carol, T - 1000)).toBe(T + 1);
    expect(log.latestFor(bobB, T - 1000)).toBe(T + 2);
    // The latest affecting change, not the first one found.
    log.record(T + 3, { users: ['user_alice'] }, T + 3);
    expect(log.latestFor(aliceA, T - 1000)).toBe(T + 3);
  });

  it('a session fresh as of a change is not stale for it (the answer is then no later than since)', () => {
    const log = newLog();
    log.record(T, { organizations: ['org_A'] }, T);
    expect(log.latestFor(aliceA, T)).toBeLessThanOrEqual(T);
    expect(log.latestFor(aliceA, T + 5)).toBeLessThanOrEqual(T + 5);
  });

  it('an all-session change dates every session and absorbs older scoped entries', () => {
    const log = newLog();
    log.record(T, { organizations: ['org_A'] }, T);
    log.record(T + 10, 'all', T + 10);
    expect(log.size).toBe(0);
    expect(log.everyoneBefore).toBe(T + 10);
    for (const subject of [aliceA, bobB, carol]) expect(log.latestFor(subject, 0)).toBe(T + 10);
    // A scoped change no later than it says nothing new.
    expect(log.record(T + 5, { users: ['user_alice'] }, T + 11)).toBe(false);
    expect(log.record(T + 10, 'all', T + 11)).toBe(false);
    // A later scoped one still counts for its sessions only.
    log.record(T + 20, { users: ['user_alice'] }, T + 20);
    expect(log.latestFor(aliceA, 0)).toBe(T + 20);
    expect(log.latestFor(bobB, 0)).toBe(T + 10);
  });

  it('an empty scope records nothing', () => {
    const log = newLog();
    expect(log.record(T, {}, T)).toBe(false);
    expect(log.record(T, { users: [], organizations: [], flags: [] }, T)).toBe(false);
    expect([log.latest, log.size]).toEqual([0, 0]);
  });

  it('pruning: entries older than the retention fold into the all-session time (conservative)', () => {
    const log = newLog();
    log.record(T, { organizations: ['org_A'] }, T);
    log.record(T + HOUR / 2, { organizations: ['org_B'] }, T + HOUR / 2);
    expect(log.everyoneBefore).toBe(0);
    // An hour and a bit later the first one is pruned when the next change is recorded.
    log.record(T + HOUR + 1, { users: ['user_carol'] }, T + HOUR + 1);
    expect(log.size).toBe(2);
    expect(log.everyoneBefore).toBe(T);
    // A session older than the folded change counts as stale, whatever it is.
    expect(log.latestFor(carol, T - 1)).toBe(T + HOUR + 1);
    expect(log.latestFor({ ...carol, userId: 'user_dave' }, T - 1)).toBe(T);
    // One issued after it is judged by the entries kept.
    expect(log.latestFor({ ...carol, userId: 'user_dave' }, T + 1)).toBeLessThanOrEqual(T + 1);
    expect(log.latestFor(bobB, T + 1)).toBe(T + HOUR / 2);
  });

  it('count bound: beyond maxEntries the oldest fold into the all-session time', () => {
    const log = newLog(3);
    for (let i = 0; i < 5; i++) log.record(T + i, { users: [`user_${i}`] }, T + i);
    expect(log.size).toBe(3);
    expect(log.everyoneBefore).toBe(T + 1);
    const other = { userId: 'user_x', featureFlags: [] };
    expect(log.latestFor(other, T)).toBe(T + 1); // issued before a folded change: stale
    expect(log.latestFor(other, T + 1)).toBeLessThanOrEqual(T + 1);
    expect(log.latestFor({ ...other, userId: 'user_4' }, T + 1)).toBe(T + 4);
  });

  it('id bound: beyond maxIds over all entries the oldest fold into the all-session time', () => {
    const log = newLog(1_000, 5);
    log.record(T, { users: ['u1', 'u2', 'u3'] }, T);
    log.record(T + 1, { organizations: ['org_A', 'org_B'] }, T + 1);
    expect([log.size, log.everyoneBefore]).toEqual([2, 0]);
    log.record(T + 2, { flags: ['beta'] }, T + 2);
    expect([log.size, log.everyoneBefore]).toEqual([2, T]);
    expect(log.latestFor(bobB, T - 1)).toBe(T + 2);
    expect(log.latestFor({ userId: 'u1', featureFlags: [] }, T - 1)).toBe(T);
    // One change naming more ids than the bound is kept as an all-session change.
    log.record(T + 3, { users: ['a', 'b', 'c', 'd', 'e', 'f'] }, T + 3);
    expect([log.size, log.everyoneBefore]).toEqual([0, T + 3]);
    expect(log.latestFor(carol, 0)).toBe(T + 3);
  });

  it('an id named again later keeps its latest time when the earlier entry is pruned', () => {
    const log = newLog(2);
    log.record(T, { organizations: ['org_A'] }, T);
    log.record(T + 1, { organizations: ['org_B'] }, T + 1);
    log.record(T + 2, { organizations: ['org_A'] }, T + 2);
    expect(log.everyoneBefore).toBe(T);
    expect(log.latestFor(aliceA, T)).toBe(T + 2);
    log.record(T + 3, { users: ['user_carol'] }, T + 3);
    log.record(T + 4, { users: ['user_dave'] }, T + 4);
    // org_A's entry at T + 2 is pruned now: its sessions are judged by the folded time.
    expect(log.everyoneBefore).toBe(T + 2);
    expect(log.latestFor(aliceA, T + 2)).toBeLessThanOrEqual(T + 2);
    expect(log.latestFor(aliceA, T + 1)).toBe(T + 2);
  });

  it('a change arriving out of order (a peer) is kept in time order', () => {
    const log = newLog();
    log.record(T + 10, { users: ['user_alice'] }, T + 10);
    log.record(T + 5, { organizations: ['org_B'] }, T + 10);
    expect(log.latest).toBe(T + 10);
    expect(log.latestFor(bobB, T)).toBe(T + 5);
    expect(log.latestFor(aliceA, T)).toBe(T + 10);
  });

  it('1,000 scoped entries after a session: one that none of them names is still judged right', () => {
    const log = newLog();
    for (let i = 0; i < 1_000; i++) log.record(T + i, { organizations: [`org_${i}`] }, T + i);
    expect(log.latestFor(aliceA, T - 1)).toBe(0);
    expect(log.latestFor({ ...aliceA, organizationId: 'org_7' }, T - 1)).toBe(T + 7);
  });
});

describe('scopeAffects / scopeFrom', () => {
  it('matches users in any organization, organizations, and flags held by the claim', () => {
    expect(scopeAffects('all', carol)).toBe(true);
    expect(scopeAffects({ users: ['user_alice'] }, aliceA)).toBe(true);
    expect(scopeAffects({ organizations: ['org_A'] }, aliceA)).toBe(true);
    expect(scopeAffects({ organizations: ['org_A'] }, carol)).toBe(false);
    expect(scopeAffects({ flags: ['beta'] }, bobB)).toBe(true);
    expect(scopeAffects({ flags: ['beta'] }, aliceA)).toBe(false);
    expect(scopeAffects({}, aliceA)).toBe(false);
  });

  it("a peer's or caller's scope that is not lists of ids means every session", () => {
    expect(scopeFrom(undefined)).toBe('all'); // an older peer sends none
    expect(scopeFrom('all')).toBe('all');
    expect(scopeFrom({ users: 'user_1' })).toBe('all');
    expect(scopeFrom({ organizations: [1] })).toBe('all');
    expect(scopeFrom(null)).toBe('all');
    expect(scopeFrom({ users: ['u'], flags: ['f'] })).toEqual({ users: ['u'], flags: ['f'] });
  });
});
