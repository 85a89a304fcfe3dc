// What the context layer costs per HTTP request, measured from outside: each app in its own
// process, the load generator in another. Express and Fastify; today's lib beside an old
// commit's (BENCH_OLD_REF, default e133c3f: the per-route interceptor + AsyncLocalStorage.run).
// Run: npm run bench. BENCH_SECONDS per row (default 3), BENCH_ROUNDS (5), BENCH_CONNECTIONS (16).
import { fileURLToPath } from 'node:url';
import { startBenchWorld } from './support/world.js';
import { startApp, type AppHandle, type AppSpec } from './support/apps.js';
import { oldLib } from './support/old-lib.js';
import {
  CONNECTIONS,
  ROUNDS,
  SLICE,
  int,
  machineLoad,
  measure,
  paired,
  ratio,
  table,
  type Row,
  type RowStats,
} from './support/rows.js';

/** The build under test: this tree's lib/, or BENCH_LIB (another build's index.js, e.g. a patch). */
const NEW_LIB = process.env.BENCH_LIB ?? fileURLToPath(new URL('../lib/index.js', import.meta.url));
const VERBOSE = process.env.BENCH_VERBOSE === '1';

const world = await startBenchWorld();
const { emulator, authkit } = world;
const cookie = { cookie: world.cookie };

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

const TARGET_FLAG = { express: 0.85, fastify: 0.7 };

const loadBefore = machineLoad();
const results = {
  express: await platformRows('express'),
  fastify: await platformRows('fastify'),
};

console.log(
  `node ${process.version}, app and load generator in separate processes, ` +
    `${CONNECTIONS} keep-alive connections, ${ROUNDS} interleaved rounds x ${SLICE.toFixed(1)} s ` +
    'per row; medians (ratios: median of the per-round ratios)',
);
console.log(`machine: ${loadBefore} before, ${machineLoad()} after`);
console.log(
  'vs bare: req/s ratio. µs/req: app CPU time per request. cpu vs bare: bare µs/req / this µs/req',
);
console.log(
  `new: ${process.env.BENCH_LIB ?? "this tree's lib/"}; old: ` +
    (old.ok ? `${old.commit} (interceptor + AsyncLocalStorage.run)` : 'not built'),
);
const oldLabel = old.ok ? `old ${old.commit}` : 'old (not built)';
for (const platform of ['express', 'fastify'] as const) {
  const { stats, upstream } = results[platform];
  const baseOf = (key: Key): RowStats | undefined =>
    key === 'newNone' || key === 'oldNone' ? stats.bareNone : stats.bareCookie;
  const cells = (key: Key | undefined, latency: boolean): string[] => {
    const row = key && stats[key];
    const base = key && baseOf(key);
    if (!row || !base) return latency ? ['', '', '', '', '', ''] : ['', '', '', ''];
    const mark = row.failures ? ` (${row.failures} FAILED: ${row.firstError ?? 'non-2xx'})` : '';
    return [
      int(row.rps) + mark,
      ratio(paired(row, base, (a, b) => a.rps / b.rps)),
      ...(latency ? [row.p50Ms.toFixed(2), row.p99Ms.toFixed(2)] : []),
      row.serverUsPerReq.toFixed(1),
      ratio(paired(row, base, (a, b) => b.serverUsPerReq / a.serverUsPerReq)),
    ];
  };
  const bare = (key: Key): string[] => {
    const row = stats[key];
    if (!row) return [];
    const mark = row.failures ? ` (${row.failures} FAILED)` : '';
    const latency = [row.p50Ms.toFixed(2), row.p99Ms.toFixed(2)];
    return [int(row.rps) + mark, '', ...latency, row.serverUsPerReq.toFixed(1)];
  };
  console.log(`\n${platform === 'express' ? 'Express' : 'Fastify'}`);
  table(
    [
      'row',
      'new req/s',
      'vs bare',
      'p50 ms',
      'p99 ms',
      'µs/req',
      'cpu vs bare',
      `${oldLabel} req/s`,
      'vs bare',
      'µs/req',
      'cpu vs bare',
      'target',
    ],
    [
      ['(a) GET /none, no credential: bare app', ...bare('bareNone')],
      [
        '    same, app imports AuthKitModule',
        ...cells('newNone', true),
        ...cells(old.ok ? 'oldNone' : undefined, false),
        '>= 0.95x',
      ],
      ['(b) GET /none + session cookie: bare app', ...bare('bareCookie')],
      [
        "    @RequireFlag('beta'), seen session",
        ...cells('newFlag', true),
        ...cells(old.ok ? 'oldFlag' : undefined, false),
        `>= ${TARGET_FLAG[platform].toFixed(2)}x`,
      ],
      [
        '(c) GET /none + seen session, AuthKit',
        ...cells('newNoneCookie', true),
        ...cells(old.ok ? 'oldNoneCookie' : undefined, false),
        '',
      ],
    ],
  );
  const all = Object.values(stats).filter((s): s is RowStats => s !== undefined);
  const cores = (pick: (s: RowStats) => number) =>
    `${Math.min(...all.map(pick)).toFixed(2)}–${Math.max(...all.map(pick)).toFixed(2)}`;
  console.log(
    `cores used (row medians): app ${cores((s) => s.serverCores)}, load generator ` +
      `${cores((s) => s.loadCores)}; upstream calls during the measured rows: ` +
      `authenticate ${upstream.authenticate}, refresh ${upstream.refresh}, jwks ${upstream.jwks}`,
  );
}

await emulator.close();
