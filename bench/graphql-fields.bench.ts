// GraphQL auth cost per query against the number of guarded fields, measured from outside:
// a query selecting N fields, each a @ResolveField under @RequireFlag('beta'), must resolve
// the session once, so AuthKit's cost per query should stay flat in N. Apollo on Express;
// the bare app has the same schema and enhancers without AuthKitModule.
// Run: npm run bench. BENCH_SECONDS per row (default 3), BENCH_ROUNDS (5), BENCH_CONNECTIONS (16).
import { fileURLToPath } from 'node:url';
import { startBenchWorld } from './support/world.js';
import { startApp, type AppHandle } from './support/apps.js';
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
} from './support/rows.js';

/** The build under test: this tree's lib/, or BENCH_LIB (another build's index.js, e.g. a patch). */
const NEW_LIB = process.env.BENCH_LIB ?? fileURLToPath(new URL('../lib/index.js', import.meta.url));
const FIELD_COUNTS = [1, 10, 50] as const;
const VERBOSE = process.env.BENCH_VERBOSE === '1';

const { emulator, cookie, authkit } = await startBenchWorld();

const fields = Math.max(...FIELD_COUNTS);
const bare = await startApp({ kind: 'graphql', platform: 'express', fields });
const ours = await startApp({
  kind: 'graphql',
  platform: 'express',
  fields,
  lib: NEW_LIB,
  authkit,
});

const query = (n: number) =>
  JSON.stringify({
    query: `{ report { ${Array.from({ length: n }, (_, i) => `f${i + 1}`).join(' ')} } }`,
  });
const HEADERS = { 'content-type': 'application/json', cookie };

/** One query from here, before timing: every field answered, or (no cookie) refused. */
async function check(app: AppHandle, n: number, withCookie: boolean): Promise<void> {
  const res = await fetch(`${app.url}/graphql`, {
    method: 'POST',
    headers: withCookie ? HEADERS : { 'content-type': 'application/json' },
    body: query(n),
  });
  const text = await res.text();
  const answered = text.includes(`"f${n}":"v${n}"`) && !text.includes('"errors"');
  if (answered !== withCookie) throw new Error(`${app.url} ${n} fields: ${res.status} ${text}`);
}
await check(ours, fields, false); // the guards are really there
for (const app of [bare, ours]) await check(app, fields, true);

type Key = `${'bare' | 'ours'}${(typeof FIELD_COUNTS)[number]}`;
const rows = {} as Record<Key, Row>;
for (const n of FIELD_COUNTS) {
  for (const [name, app] of [
    ['bare', bare],
    ['ours', ours],
  ] as const) {
    rows[`${name}${n}`] = {
      app,
      path: '/graphql',
      method: 'POST',
      // The bare app gets the same Cookie header: parsing its bytes is not AuthKit's cost.
      headers: HEADERS,
      body: query(n),
      // A refused field still answers 200: its "errors" entry is what marks the failure.
      badBodyMarker: '"errors"',
    };
  }
}

const loadBefore = machineLoad();
const calls0 = { ...emulator.calls };
const stats = await measure(rows, VERBOSE ? console.log : undefined);
const calls = Object.fromEntries(
  (['authenticate', 'refresh', 'jwks', 'sdkFlags'] as const).map((k) => [
    k,
    emulator.calls[k] - calls0[k],
  ]),
);
await Promise.all([bare.close(), ours.close()]);
await emulator.close();

console.log(
  `node ${process.version}, Apollo (Express), app and load generator in separate processes, ` +
    `${CONNECTIONS} keep-alive connections, ${ROUNDS} interleaved rounds x ${SLICE.toFixed(1)} s ` +
    'per row; medians (ratios, overheads: median of the per-round values)',
);
console.log(`machine: ${loadBefore} before, ${machineLoad()} after`);
console.log(
  "query { report { f1 … fN } }, every field a @ResolveField under @RequireFlag('beta') " +
    '(fieldResolverEnhancers: guards), valid session cookie seen before',
);
console.log(
  'overhead/q: 1e6/ours - 1e6/bare req/s. cpu µs/q: app CPU time per query (overhead: ours - bare)\n',
);
const overhead = new Map<number, { wall: number; cpu: number }>();
table(
  [
    'fields',
    'bare req/s',
    'ours req/s',
    'ours/bare',
    'overhead µs/q',
    'bare cpu µs/q',
    'ours cpu µs/q',
    'cpu overhead µs/q',
    'ours p50 ms',
    'ours p99 ms',
    'failed',
  ],
  FIELD_COUNTS.map((n) => {
    const b = stats[`bare${n}`];
    const o = stats[`ours${n}`];
    const wall = paired(o, b, (x, y) => 1e6 / x.rps - 1e6 / y.rps);
    const cpu = paired(o, b, (x, y) => x.serverUsPerReq - y.serverUsPerReq);
    overhead.set(n, { wall, cpu });
    return [
      String(n),
      int(b.rps),
      int(o.rps),
      ratio(paired(o, b, (x, y) => x.rps / y.rps)),
      wall.toFixed(1),
      b.serverUsPerReq.toFixed(1),
      o.serverUsPerReq.toFixed(1),
      cpu.toFixed(1),
      o.p50Ms.toFixed(2),
      o.p99Ms.toFixed(2),
      String(b.failures + o.failures),
    ];
  }),
);
const first = overhead.get(FIELD_COUNTS[0]) ?? { wall: NaN, cpu: NaN };
const last = overhead.get(fields) ?? { wall: NaN, cpu: NaN };
const span = fields - FIELD_COUNTS[0];
console.log(
  `\noverhead(${fields}) / overhead(${FIELD_COUNTS[0]}): ${(last.wall / first.wall).toFixed(2)} ` +
    `from req/s, ${(last.cpu / first.cpu).toFixed(2)} from app CPU ` +
    `(flat = 1; a session resolution per field would make it ~${fields})`,
);
console.log(
  `per extra guarded field: ${((last.wall - first.wall) / span).toFixed(2)} µs from req/s, ` +
    `${((last.cpu - first.cpu) / span).toFixed(2)} µs from app CPU`,
);
const cores = (pick: (key: Key) => number) => {
  const values = (Object.keys(stats) as Key[]).map(pick);
  return `${Math.min(...values).toFixed(2)}–${Math.max(...values).toFixed(2)}`;
};
console.log(
  `cores used (row medians): app ${cores((k) => stats[k].serverCores)}, load generator ` +
    `${cores((k) => stats[k].loadCores)}`,
);
console.log(
  `upstream calls to the emulator during the measured rows: ${Object.entries(calls)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ')} (expected: 0 refresh)`,
);
