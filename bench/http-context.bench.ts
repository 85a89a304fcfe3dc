// What the context layer costs per HTTP request, measured from outside: each app in its own
// process, the load generator in another. Express and Fastify; today's lib beside an old
// commit's (BENCH_OLD_REF, default e133c3f: the per-route interceptor + AsyncLocalStorage.run).
// Run: npm run bench. BENCH_SECONDS per row (default 3), BENCH_ROUNDS (3), BENCH_CONNECTIONS (16).
import { fileURLToPath } from 'node:url';
import { WorkOSEmulator } from '../lib/testing/index.js';
import { startApp, type AppHandle, type AppSpec } from './support/apps.js';
import { oldLib } from './support/old-lib.js';
import {
  CONNECTIONS,
  ROUNDS,
  SLICE,
  fixed,
  fmt,
  measure,
  paired,
  type Row,
  type RowStats,
} from './support/rows.js';

const PASSWORD = 'bench-cookie-password-0123456789abcdef';
const NEW_LIB = fileURLToPath(new URL('../lib/index.js', import.meta.url));
const VERBOSE = process.env.BENCH_VERBOSE === '1';

const emulator = await WorkOSEmulator.start({
  users: [{ id: 'user_bench', email: 'bench@example.test' }],
  organizations: [{ id: 'org_bench', name: 'Bench' }],
  memberships: [{ userId: 'user_bench', organizationId: 'org_bench', role: 'member' }],
  flags: [{ slug: 'beta', enabled: true, orgRule: 'all' }],
  // Outlives the whole run: an expiry mid-row would turn it into a refresh bench.
  accessTokenTtlSeconds: 3600,
});
const session = await emulator.createSession({ userId: 'user_bench', organizationId: 'org_bench' });
const cookie = { cookie: `wos-session=${emulator.sealSession(session, PASSWORD)}` };
const authkit = { ...emulator.connection(), cookiePassword: PASSWORD };

const old = oldLib();
if (!old.ok) console.log(`old lib not built, new numbers only: ${old.reason}\n`);

/** One GET from here, before timing: a row that answers wrongly must not be timed. */
async function expect(app: AppHandle, path: string, status: number, headers = {}) {
  const res = await fetch(app.url + path, { headers });
  await res.text();
  if (res.status !== status) throw new Error(`${app.url}${path}: ${res.status}, not ${status}`);
}

type Key =
  | 'bareNone'
  | 'newNone'
  | 'oldNone'
  | 'bareCookie'
  | 'newFlag'
  | 'oldFlag'
  | 'newNoneCookie'
  | 'oldNoneCookie';

async function platformRows(platform: 'express' | 'fastify') {
  const spec = (lib?: string): AppSpec => ({
    kind: 'http',
    platform,
    ...(lib ? { lib, authkit } : {}),
  });
  const bare = await startApp(spec());
  const ours = await startApp(spec(NEW_LIB));
  const before = old.ok ? await startApp(spec(old.index)) : undefined;
  for (const app of [ours, before]) {
    if (!app) continue;
    await expect(app, '/flag', 401); // the guard is really there
    await expect(app, '/flag', 200, cookie); // first sight: the session is verified and cached
  }
  await expect(bare, '/none', 200, cookie);

  const rows: Partial<Record<Key, Row>> = {
    bareNone: { app: bare, path: '/none' },
    newNone: { app: ours, path: '/none' },
    // The bare app gets the same Cookie header: parsing its bytes is not AuthKit's cost.
    bareCookie: { app: bare, path: '/none', headers: cookie },
    newFlag: { app: ours, path: '/flag', headers: cookie },
    newNoneCookie: { app: ours, path: '/none', headers: cookie },
  };
  if (before) {
    rows.oldNone = { app: before, path: '/none' };
    rows.oldFlag = { app: before, path: '/flag', headers: cookie };
    rows.oldNoneCookie = { app: before, path: '/none', headers: cookie };
  }
  const calls0 = { ...emulator.calls };
  const stats = await measure(rows as Record<Key, Row>, VERBOSE ? console.log : undefined);
  const upstream = {
    authenticate: emulator.calls.authenticate - calls0.authenticate,
    refresh: emulator.calls.refresh - calls0.refresh,
    jwks: emulator.calls.jwks - calls0.jwks,
  };
  await Promise.all([bare.close(), ours.close(), before?.close()]);
  return { stats: stats as Partial<Record<Key, RowStats>>, upstream };
}

const TITLE = {
  express: 'Express',
  fastify: 'Fastify',
};
const TARGET_FLAG = { express: 0.85, fastify: 0.7 };

const results = {
  express: await platformRows('express'),
  fastify: await platformRows('fastify'),
};

console.log(
  `node ${process.version}, app and load generator in separate processes, ` +
    `${CONNECTIONS} keep-alive connections, ${ROUNDS} interleaved rounds x ${SLICE.toFixed(1)} s ` +
    'per row, medians (ratios: median of per-round ratios)',
);
console.log(
  'vs bare = req/s ratio; cpu vs bare = bare app CPU per request / this app CPU per request',
);
const oldLabel = old.ok ? `old ${old.commit}` : 'old (not built)';
for (const platform of ['express', 'fastify'] as const) {
  const { stats, upstream } = results[platform];
  const bareOf = (key: Key): RowStats | undefined =>
    key === 'newNone' || key === 'oldNone' ? stats.bareNone : stats.bareCookie;
  const cells = (key: Key, withLatency: boolean): string => {
    const row = stats[key];
    const base = bareOf(key);
    if (!row || !base) return '';
    const ratio = paired(row, base, (a, b) => a.rps / b.rps);
    const cpu = paired(row, base, (a, b) => b.serverUsPerReq / a.serverUsPerReq);
    const latency = withLatency
      ? `${fixed(row.p50Ms, 2, 7)} ${fixed(row.p99Ms, 2, 7)} `
      : '';
    const failed = row.failures ? `  <-- ${row.failures} failed: ${row.firstError ?? 'non-2xx'}` : '';
    return (
      `${fmt(row.rps)} ${fixed(ratio, 2, 7)}x ${latency}${fixed(row.serverUsPerReq, 1, 8)} ` +
      `${fixed(cpu, 2, 7)}x${failed}`
    );
  };
  const line = (label: string, key: Key, oldKey?: Key, target = '') => {
    const oldCells = oldKey ? cells(oldKey, false) : '';
    console.log(
      `${label.padEnd(40)}${cells(key, true).padEnd(57)}${oldCells.padEnd(42)}${target}`,
    );
  };
  const bareLine = (label: string, key: Key) => {
    const row = stats[key];
    if (!row) return;
    console.log(
      `${label.padEnd(40)}${fmt(row.rps)}         ${fixed(row.p50Ms, 2, 7)} ${fixed(row.p99Ms, 2, 7)} ` +
        `${fixed(row.serverUsPerReq, 1, 8)}`,
    );
  };
  console.log(`\n${TITLE[platform]}`);
  console.log(
    `${''.padEnd(40)}${'----------------- new (HEAD) -----------------'.padEnd(57)}` +
      `${`------------ ${oldLabel} ------------`.padEnd(42)}`,
  );
  console.log(
    `${'row'.padEnd(40)}${'   req/s  vs bare  p50 ms  p99 ms  µs/req  cpu vs bare'.padEnd(57)}` +
      `${'   req/s  vs bare   µs/req  cpu vs bare'.padEnd(42)}target`,
  );
  bareLine('(a) GET /none, no credential: bare', 'bareNone');
  line('    same route, AuthKitModule imported', 'newNone', 'oldNone', '>= 0.95x');
  bareLine('(b) GET /none + session cookie: bare', 'bareCookie');
  line(
    "    @RequireFlag('beta'), seen session",
    'newFlag',
    'oldFlag',
    `>= ${TARGET_FLAG[platform].toFixed(2)}x`,
  );
  line('(c) GET /none + seen cookie, AuthKit', 'newNoneCookie', 'oldNoneCookie');
  const all = Object.values(stats).filter((s): s is RowStats => s !== undefined);
  const cores = (pick: (s: RowStats) => number) =>
    `${Math.min(...all.map(pick)).toFixed(2)}–${Math.max(...all.map(pick)).toFixed(2)}`;
  console.log(
    `cores used per row: app ${cores((s) => s.serverCores)}, load generator ` +
      `${cores((s) => s.loadCores)}; upstream calls during timed rows: ` +
      `authenticate ${upstream.authenticate}, refresh ${upstream.refresh}, jwks ${upstream.jwks}`,
  );
}

await emulator.close();
