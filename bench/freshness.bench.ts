// Freshness cost, from one run: what a `fresh` flag decision costs beside a claim decision, how
// many upstream refreshes one flag change causes for M active cookie sessions, and how many a
// change scoped to one organization in ten causes (change-scoped freshness).
// Run: npm run bench. Loopback only; every timed loop is bounded (BENCH_SECONDS, default 2 s each).
import 'reflect-metadata';
import { Controller, Get, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ExecutionContextHost } from '@nestjs/core/internal';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { LiveFlags } from '../lib/flags/live-flags.js';
import { AuthKitModule, FlagGuard, FlagService, RequireFlag } from '../lib/index.js';
import { httpCarrier } from '../lib/context/carrier.js';
import { ClaimsWatermark } from '../lib/session/claims-watermark.js';
import { SessionResolver } from '../lib/session/session.resolver.js';
import { WorkOSEmulator } from '../lib/testing/index.js';

const PASSWORD = 'bench-cookie-password-0123456789abcdef';
const SECONDS = Number(process.env.BENCH_SECONDS ?? 2);
const COOKIE = 'wos-session';
/** Session counts for part 2 (BENCH_SESSIONS=10,100,1000 for more; 1000 takes ~20 s here). */
const SESSION_COUNTS = (process.env.BENCH_SESSIONS ?? '10,100,500')
  .split(',')
  .filter((m) => m.trim() !== '')
  .map(Number);
/** Session counts for part 3, spread evenly over ORGS organizations. */
const SCOPED_COUNTS = (process.env.BENCH_SCOPED_SESSIONS ?? '100,1000')
  .split(',')
  .filter((m) => m.trim() !== '')
  .map(Number);
const ORGS = 10;
const CONCURRENCY = 16;
const SLICE_SECONDS = 0.25;
const POLL_MS = 5000;

/** Part 3's people: user i is a member of organization i mod ORGS. */
const scopedUsers = Array.from({ length: Math.max(0, ...SCOPED_COUNTS) }, (_, i) => ({
  id: `user_${i}`,
  organizationId: `org_${i % ORGS}`,
}));
const emulator = await WorkOSEmulator.start({
  users: [
    { id: 'user_bench', email: 'bench@example.test' },
    ...scopedUsers.map(({ id }) => ({ id, email: `${id}@example.test` })),
  ],
  organizations: [
    { id: 'org_bench', name: 'Bench' },
    ...Array.from({ length: ORGS }, (_, k) => ({ id: `org_${k}`, name: `Org ${k}` })),
  ],
  memberships: [
    { userId: 'user_bench', organizationId: 'org_bench', role: 'member' },
    ...scopedUsers.map(({ id, organizationId }) => ({ userId: id, organizationId })),
  ],
  flags: [
    { slug: 'beta', enabled: true, orgRule: 'all' },
    // On for no one until part 3 targets one organization.
    { slug: 'scoped', enabled: true, orgRule: 'none' },
  ],
});
const newCookie = async () =>
  emulator.sealSession(
    await emulator.createSession({ userId: 'user_bench', organizationId: 'org_bench' }),
    PASSWORD,
  );
const cookie = await newCookie();

@Controller()
class BenchController {
  @Get('none')
  none() {
    return 'ok';
  }

  @Get('claim')
  @RequireFlag('beta')
  claim() {
    return 'ok';
  }

  @Get('fresh')
  @RequireFlag('beta', { fresh: true })
  fresh() {
    return 'ok';
  }

  @Get('scoped')
  @RequireFlag('scoped')
  scoped() {
    return 'ok';
  }
}

@Module({
  imports: [
    AuthKitModule.forRoot({
      ...emulator.moduleOptions(),
      cookiePassword: PASSWORD,
      flags: { live: { pollingIntervalMs: POLL_MS } },
    }),
  ],
  controllers: [BenchController],
})
class BenchModule {}

interface Reply {
  status: number;
  /** The session cookie the response set, if any. */
  setCookie?: string;
}

/** One GET with the session cookie (when given); resolves with the status and any new cookie. */
function get(agent: http.Agent, path: string, sealed?: string): Promise<Reply> {
  return new Promise<Reply>((resolve, reject) => {
    const req = http.get(
      {
        host: '127.0.0.1',
        port,
        path,
        agent,
        headers: sealed ? { cookie: `${COOKIE}=${sealed}` } : {},
      },
      (res) => {
        res.resume();
        res.on('end', () => {
          const set = (res.headers['set-cookie'] ?? []).find((c) => c.startsWith(`${COOKIE}=`));
          const value = set?.slice(COOKIE.length + 1).split(';')[0];
          resolve({ status: res.statusCode ?? 0, ...(value ? { setCookie: value } : {}) });
        });
      },
    );
    req.on('error', reject);
  });
}

/** Runs until the deadline; returns how many operations it completed. */
type Runner = (until: bigint) => Promise<number>;

/** An async function called back to back. */
function sequential(fn: () => Promise<unknown>): Runner {
  return async (until) => {
    let n = 0;
    while (process.hrtime.bigint() < until) {
      for (let i = 0; i < 50; i++) await fn();
      n += 50;
    }
    return n;
  };
}

/** GETs over keep-alive connections at a fixed concurrency; any non-200 aborts the bench. */
function overHttp(agent: http.Agent, path: string, sealed?: string): Runner {
  return async (until) => {
    let n = 0;
    const worker = async () => {
      while (process.hrtime.bigint() < until) {
        const { status } = await get(agent, path, sealed);
        if (status !== 200) throw new Error(`${path}: HTTP ${status}`);
        n++;
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    return n;
  };
}

/**
 * Operations/s of each row, measured in short slices taken in turn (A B C, C B A, ...) so that
 * the drift of a shared machine and JIT warm-up hit every row alike. One untimed pass first.
 */
async function interleaved<K extends string>(rows: Record<K, Runner>): Promise<Record<K, number>> {
  const keys = Object.keys(rows) as K[];
  const sliceNs = BigInt(Math.round(SLICE_SECONDS * 1e9));
  const passes = Math.max(2, Math.round(SECONDS / SLICE_SECONDS));
  const totals = new Map(keys.map((k) => [k, { n: 0, ns: 0n }]));
  for (let pass = -1; pass < passes; pass++) {
    for (const key of pass % 2 === 0 ? keys : [...keys].reverse()) {
      const start = process.hrtime.bigint();
      const n = await rows[key](start + sliceNs);
      const total = totals.get(key);
      if (pass >= 0 && total) {
        total.n += n;
        total.ns += process.hrtime.bigint() - start;
      }
    }
  }
  return Object.fromEntries(
    keys.map((k) => {
      const total = totals.get(k) ?? { n: 0, ns: 1n };
      return [k, total.n / (Number(total.ns) / 1e9)];
    }),
  ) as Record<K, number>;
}

/** Runs `fn` for every item, at most `limit` at a time. */
async function forEachLimited<T>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      await fn(items[index] as T, index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

const app = await NestFactory.create(BenchModule, { logger: false });
await app.listen(0, '127.0.0.1');
const port = (app.getHttpServer().address() as AddressInfo).port;
const live = app.get(LiveFlags);
for (let waited = 0; !live.available; waited += 50) {
  if (waited > 10_000) throw new Error('live flags not ready after 10 s');
  await sleep(50);
}
const guard = app.get(FlagGuard);
const resolver = app.get(SessionResolver);
const flags = app.get(FlagService);
const watermark = app.get(ClaimsWatermark);

// ---- 1. guard decision cost, claim vs fresh --------------------------------------------------

/** A new request each call: the guard and the resolver remember requests they have seen. */
const fakeReq = (path: string) => ({
  headers: { cookie: `${COOKIE}=${cookie}`, host: `127.0.0.1:${port}` },
  url: path,
  method: 'GET',
});
const decide = (path: string, handler: () => string) => async () => {
  const context = new ExecutionContextHost(
    [fakeReq(path), {}, () => undefined],
    BenchController,
    handler,
  );
  context.setType('http');
  if (!(await guard.canActivate(context))) throw new Error(`${path}: denied`);
};
const proto = BenchController.prototype;
for (const fn of [decide('/claim', proto.claim), decide('/fresh', proto.fresh)]) {
  for (let i = 0; i < 300; i++) await fn(); // a first sight fills the verified-session cache
}
const calls0 = { ...emulator.calls };
const inProcess = await interleaved({
  resolve: sequential(() => resolver.resolve(httpCarrier(fakeReq('/none'), {}))),
  claim: sequential(decide('/claim', proto.claim)),
  fresh: sequential(decide('/fresh', proto.fresh)),
});
const loadAgent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });
const overHttpRows = await interleaved({
  bare: overHttp(loadAgent, '/none'),
  none: overHttp(loadAgent, '/none', cookie),
  claim: overHttp(loadAgent, '/claim', cookie),
  fresh: overHttp(loadAgent, '/fresh', cookie),
});
loadAgent.destroy();
const calls1 = { ...emulator.calls };

const fmt = (n: number, width = 9) => Math.round(n).toLocaleString('en-US').padStart(width);
const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}x`.padStart(7);
console.log(
  `node ${process.version}, ${SECONDS}s per row (interleaved ${SLICE_SECONDS}s slices), ` +
    'same cookie for every request\n',
);
console.log('guard decision, in process (canActivate, sequential)   ops/s   vs claim');
console.log(
  `  session resolve only (what every route pays)   ${fmt(inProcess.resolve)}  ${ratio(inProcess.resolve, inProcess.claim)}`,
);
console.log(`  @RequireFlag('beta')                 (claim)   ${fmt(inProcess.claim)}    1.00x`);
console.log(
  `  @RequireFlag('beta', { fresh: true }) (live)   ${fmt(inProcess.fresh)}  ${ratio(inProcess.fresh, inProcess.claim)}`,
);
console.log(`\nHTTP GET, ${CONCURRENCY} keep-alive connections                req/s   vs no guard`);
console.log(
  `  no guard, no cookie                            ${fmt(overHttpRows.bare)}  ${ratio(overHttpRows.bare, overHttpRows.none)}`,
);
console.log(`  no guard, cookie (interceptor resolves it)     ${fmt(overHttpRows.none)}    1.00x`);
console.log(
  `  @RequireFlag('beta')                 (claim)   ${fmt(overHttpRows.claim)}  ${ratio(overHttpRows.claim, overHttpRows.none)}`,
);
console.log(
  `  @RequireFlag('beta', { fresh: true }) (live)   ${fmt(overHttpRows.fresh)}  ${ratio(overHttpRows.fresh, overHttpRows.none)}`,
);
console.log(
  `\nfresh / claim: ${(inProcess.fresh / inProcess.claim).toFixed(2)}x in process, ` +
    `${(overHttpRows.fresh / overHttpRows.claim).toFixed(2)}x over HTTP`,
);
console.log(
  `upstream calls during the timed rows: ${calls1.sdkFlags - calls0.sdkFlags} flag polls ` +
    `(every ${POLL_MS / 1000} s), ${calls1.authenticate - calls0.authenticate} authenticate, ` +
    `${calls1.jwks - calls0.jwks} JWKS`,
);

// ---- 2. upstream refreshes caused by one flag change -----------------------------------------

/**
 * Waits until the wall clock is in a later second than `ms`: token `iat` has second resolution,
 * so a session created in the same second as a change would already count as stale.
 */
async function nextSecondAfter(ms: number): Promise<void> {
  const boundary = (Math.floor(ms / 1000) + 1) * 1000;
  if (Date.now() < boundary) await sleep(boundary - Date.now() + 5);
}

/** How many cookies carry a token issued (to the second) before the last flag change. */
async function issuedBeforeChange(cookies: readonly string[]): Promise<number> {
  // Part 2's changes are all-session ones: the latest dates every token.
  const staleBefore = watermark.value;
  let n = 0;
  for (const sealed of cookies) {
    const opened = await resolver.openCookie({ headers: { cookie: `${COOKIE}=${sealed}` } });
    if (!opened.ok) throw new Error(`rotated cookie does not open: ${opened.failure.reason}`);
    if (opened.check.status === 'valid' && opened.check.claims.iat * 1000 < staleBefore) n++;
  }
  return n;
}

interface Round {
  m: number;
  requests: number;
  refreshes: number;
  invalidGrant: number;
  ms: number;
  /** Upstream refreshes caused by one more request per session with its newest cookie. */
  followUpRefreshes: number;
  /** Newest cookies whose token `iat` (whole seconds) is before the change (milliseconds). */
  sameSecond: number;
}

const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY * 2 });
const expectOk = (reply: Reply, what: string) => {
  if (reply.status !== 200) throw new Error(`${what}: HTTP ${reply.status}`);
};

/** Sends each session's cookie `times` times (sequentially or at once); returns the newest cookies. */
async function round(
  cookies: string[],
  times: number,
  concurrent: boolean,
): Promise<{ newest: string[]; requests: number }> {
  const newest = [...cookies];
  let requests = 0;
  await forEachLimited(cookies, CONCURRENCY, async (sealed, i) => {
    const replies: Reply[] = [];
    if (concurrent) {
      replies.push(
        ...(await Promise.all(Array.from({ length: times }, () => get(agent, '/claim', sealed)))),
      );
    } else {
      for (let k = 0; k < times; k++) replies.push(await get(agent, '/claim', sealed));
    }
    requests += replies.length;
    for (const reply of replies) {
      expectOk(reply, `session ${i}`);
      if (reply.setCookie) newest[i] = reply.setCookie;
    }
  });
  return { newest, requests };
}

/** A flag change, then a round; counts upstream refreshes, then a follow-up with the new cookies. */
async function afterChange(
  cookies: string[],
  times: number,
  concurrent: boolean,
): Promise<{ row: Round; newest: string[] }> {
  const before = { ...emulator.calls };
  const start = Date.now();
  flags.invalidate('bench');
  const { newest, requests } = await round(cookies, times, concurrent);
  const ms = Date.now() - start;
  const refreshes = emulator.calls.refresh - before.refresh;
  const invalidGrant = emulator.calls.invalidGrant - before.invalidGrant;
  const sameSecond = await issuedBeforeChange(newest);
  const beforeFollowUp = emulator.calls.refresh;
  const followed = await round(newest, 1, false);
  const row: Round = {
    m: cookies.length,
    requests,
    refreshes,
    invalidGrant,
    ms,
    followUpRefreshes: emulator.calls.refresh - beforeFollowUp,
    sameSecond,
  };
  return { row, newest: followed.newest };
}

const first: Round[] = [];
const second: Round[] = [];
const warmRefreshes: number[] = [];
const part2Start = Date.now();
for (const m of SESSION_COUNTS) {
  await nextSecondAfter(watermark.value);
  const cookies: string[] = [];
  for (let i = 0; i < m; i++) cookies.push(await newCookie());
  const beforeWarm = emulator.calls.refresh;
  await round(cookies, 1, false);
  warmRefreshes.push(emulator.calls.refresh - beforeWarm);
  if (emulator.calls.refresh !== beforeWarm) {
    throw new Error(`warm-up of ${m} fresh sessions refreshed ${warmRefreshes.at(-1)} times`);
  }
  // Change 1: each session sends its ORIGINAL cookie twice (the 2nd in the reuse window).
  const one = await afterChange(cookies, 2, false);
  first.push(one.row);
  // Change 2: each session sends its newest cookie twice at once (single-flight).
  const two = await afterChange(one.newest, 2, true);
  second.push(two.row);
}
const part2Seconds = (Date.now() - part2Start) / 1000;

/** A header, then a line per row, marked where the row fails one of its checks. */
function printRows<R>(
  header: string,
  rows: readonly R[],
  line: (r: R) => string,
  checks: (r: R) => [ok: boolean, failure: string][],
): void {
  console.log(header);
  for (const r of rows) {
    const marks = checks(r).map(([ok, failure]) => (ok ? '' : `  <-- ${failure}`));
    console.log(line(r) + marks.join(''));
  }
}

const table = (title: string, rows: Round[]) => {
  console.log(title);
  printRows(
    '        M  requests  refreshes  expected  req/refresh  invalid_grant     ms' +
      '   | newest cookie once more: refreshes, expected 0 (iat < change)',
    rows,
    (r) =>
      `${fmt(r.m)} ${fmt(r.requests)} ${fmt(r.refreshes, 10)} ${fmt(r.m)} ` +
      `${(r.requests / r.refreshes).toFixed(1).padStart(12)} ${fmt(r.invalidGrant, 14)} ` +
      `${fmt(r.ms, 6)}   | ${fmt(r.followUpRefreshes, 9)} (${r.sameSecond})`,
    (r) => [
      [r.refreshes === r.m, 'refreshes not M'],
      [r.followUpRefreshes === 0, 'follow-up refreshed'],
    ],
  );
};
console.log(
  `\none flag change (FlagService.invalidate()), M active cookie sessions, claim route; ` +
    `warm-up refreshes: ${warmRefreshes.join(', ')} (expected 0)`,
);
table(
  'change 1: each session sends its original cookie, then that cookie again (reuse window)',
  first,
);
table('change 2: each session sends its newest cookie twice at once (Promise.all)', second);
console.log(
  '(iat < change): newest cookies whose token iat, in whole seconds, is before the change in ms;\n' +
    'the resolver knows when it refreshed them, so they are not refreshed again. ' +
    `Part 2 took ${part2Seconds.toFixed(1)} s.`,
);

// ---- 3. change-scoped: one rule change targeting 1 of 10 organizations ------------------------

/** Resolves when the watermark next records a change (the runtime client polled it). */
const nextChange = () =>
  new Promise<void>((resolve) => {
    const stop = watermark.onMove(() => {
      stop();
      resolve();
    });
  });

interface ScopedRow {
  m: number;
  /** Sessions in the targeted organization: the only ones whose `scoped` claim changed. */
  affected: number;
  refreshes: number;
  /** Requests of affected sessions answered from the old claim (403 where it is now on). */
  staleAffected: number;
  /** Requests of the other sessions whose answer changed (none may: their flag did not). */
  wrongOthers: number;
  ms: number;
  /** The same sessions after a change to every session: what any change cost before. */
  everySession: number;
}

/** One GET /scoped per session; who got 200, and the newest cookies. */
async function scopedRound(cookies: string[]): Promise<{ on: boolean[]; newest: string[] }> {
  const on: boolean[] = [];
  const newest = [...cookies];
  await forEachLimited(cookies, CONCURRENCY, async (sealed, i) => {
    const reply = await get(agent, '/scoped', sealed);
    if (reply.status !== 200 && reply.status !== 403) {
      throw new Error(`session ${i}: HTTP ${reply.status}`);
    }
    on[i] = reply.status === 200;
    if (reply.setCookie) newest[i] = reply.setCookie;
  });
  return { on, newest };
}

const scopedRows: ScopedRow[] = [];
for (const m of SCOPED_COUNTS) {
  if (emulator.flags().find((f) => f.slug === 'scoped')?.orgRule !== 'none') {
    const reset = nextChange();
    emulator.setFlag('scoped', { orgRule: 'none', organizations: [] });
    await reset;
  }
  await nextSecondAfter(watermark.value);
  const cookies: string[] = [];
  for (let i = 0; i < m; i++) {
    const { id, organizationId } = scopedUsers[i] as { id: string; organizationId: string };
    cookies.push(
      emulator.sealSession(await emulator.createSession({ userId: id, organizationId }), PASSWORD),
    );
  }
  const warm = emulator.calls.refresh;
  const before = await scopedRound(cookies);
  if (emulator.calls.refresh !== warm || before.on.some(Boolean)) {
    throw new Error('warm-up of part 3 refreshed or let a session in');
  }

  const changed = nextChange();
  emulator.setFlag('scoped', { orgRule: 'some', organizations: ['org_0'] });
  await changed;
  const start = Date.now();
  const refreshBefore = emulator.calls.refresh;
  const after = await scopedRound(cookies);
  const ms = Date.now() - start;
  const refreshes = emulator.calls.refresh - refreshBefore;
  const isAffected = (i: number) => scopedUsers[i]?.organizationId === 'org_0';
  let affected = 0;
  let staleAffected = 0;
  let wrongOthers = 0;
  after.on.forEach((on, i) => {
    if (isAffected(i)) {
      affected++;
      if (!on) staleAffected++;
    } else if (on) wrongOthers++;
  });

  // The baseline: a change to every session (what every change was before scoping).
  const everyBefore = emulator.calls.refresh;
  flags.invalidate('bench: every session');
  await scopedRound(after.newest);
  scopedRows.push({
    m,
    affected,
    refreshes,
    staleAffected,
    wrongOthers,
    ms,
    everySession: emulator.calls.refresh - everyBefore,
  });
}

console.log(
  `\nchange-scoped: one targeting change adding 1 of ${ORGS} organizations (seen by the runtime ` +
    "client's poll), M active cookie sessions spread evenly, one request each",
);
printRows(
  '        M  affected  refreshes  stale decisions (affected)  answers changed (others)' +
    '     ms  | every session (all-scope change, as before)',
  scopedRows,
  (r) =>
    `${fmt(r.m)} ${fmt(r.affected)} ${fmt(r.refreshes, 10)} ${fmt(r.staleAffected, 27)} ` +
    `${fmt(r.wrongOthers, 25)} ${fmt(r.ms, 6)}  | ${fmt(r.everySession, 9)}`,
  (r) => [
    [r.refreshes === r.affected, 'refreshes not = affected'],
    [r.staleAffected === 0 && r.wrongOthers === 0, 'stale decisions'],
    [r.everySession === r.m, 'baseline not M'],
  ],
);

agent.destroy();
await app.close();
await emulator.close();
