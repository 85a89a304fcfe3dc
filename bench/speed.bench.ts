// How fast a session read is. First in process, against a plain node:crypto floor; then from
// outside: each app in its own process, wrk (or the node worker) in another, Express and
// Fastify, a bare app beside AuthKit apps built from this tree's lib/ (or BENCH_LIB), one cookie
// or pools of 10k / 50k sessions, the SDK's own session read for comparison; then 1,000 req/s
// open loop on first-sight sessions, for the event loop's sake. Prints only.
// Run: npm run bench (speed comes first). BENCH_ROUNDS (5), BENCH_SLICE_SECONDS (2, whole
// seconds: wrk takes no fractions), BENCH_CONNECTIONS (16), BENCH_THREADS (1),
// BENCH_PLATFORMS / BENCH_RATE_PLATFORMS (express,fastify), BENCH_RATE_SECONDS (5),
// BENCH_MICRO_OPS (2000 first-sight reads per round), BENCH_MICRO_SECONDS (0.4),
// BENCH_AUTHKIT_OPTIONS (JSON, extra forRoot options, e.g. '{"tokens":{"verifyOnThreadPool":false}}'),
// BENCH_GENERATOR=node (the node worker instead of wrk), BENCH_VERBOSE=1 (progress on stderr).
import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { createPublicKey, type JsonWebKey } from 'node:crypto';
import { loadavg } from 'node:os';
import { AuthKitModule, type AuthKitTokenOptions } from '../lib/index.js';
import { httpCarrier } from '../lib/context/carrier.js';
import { SessionResolver } from '../lib/session/session.resolver.js';
import { startApp, type AppHandle, type AppMemory, type SdkRouteOptions } from './support/apps.js';
import { bearerFloor, cookieFloor } from './support/crypto-floor.js';
import { runLoad } from './support/load.js';
import { costRatio, measureOps, type MicroStats } from './support/micro.js';
import {
  failedNote,
  fixed,
  int,
  median,
  measure,
  paired,
  ratio,
  table,
  type Row,
  type RowStats,
} from './support/rows.js';
import { sdkSessionReader } from './support/sdk-flag.guard.js';
import { CookieFiles, makeSessionPool } from './support/session-pool.js';
import { PASSWORD, startBenchWorld } from './support/world.js';
import {
  CONNECTIONS,
  NEW_LIB,
  ROUNDS,
  chooseGenerator,
  env,
  platformsOf,
  progressSince,
  runHeading,
} from './support/settings.js';

const started = process.hrtime.bigint();
const RATE = 1000;
const RATE_SECONDS = env('BENCH_RATE_SECONDS', 5);
const MICRO_OPS = env('BENCH_MICRO_OPS', 2000);
const MICRO_SECONDS = env('BENCH_MICRO_SECONDS', 0.4);
const POOL_SMALL = 10_000;
const POOL_LARGE = 50_000;
/**
 * Extra `forRoot` options for every AuthKit app (JSON), e.g. '{"tokens":{"verifyOnThreadPool":false}}'.
 * None by default: the rows measure the defaults (a 50,000-session cache holds the large pool).
 */
const EXTRA_OPTIONS = JSON.parse(process.env.BENCH_AUTHKIT_OPTIONS ?? '{}') as Record<
  string,
  unknown
>;
const PLATFORMS = platformsOf(process.env.BENCH_PLATFORMS);
const RATE_PLATFORMS = platformsOf(process.env.BENCH_RATE_PLATFORMS);
const progress = progressSince(started);
/** Full GCs on demand, for the bytes-per-session figure; it changes nothing else. */
const APP_NODE_ARGS = ['--expose-gc'];

const loadBefore = loadavg();
const notes: string[] = [];

// ---- the load generator ------------------------------------------------------------------------

const { generatorLabel, measuring } = chooseGenerator(notes, {
  wrkDetail:
    ' (Lua: a request picked per call, a random cookie for pool rows; its CPU from bash `times`)',
  rows: 'closed-loop rows',
});

// ---- the world: one emulator, one cookie, a pool of distinct sessions --------------------------

const world = await startBenchWorld();
const { emulator, authkit } = world;
const owner = { userId: 'user_bench', organizationId: 'org_bench' };
const pool = await makeSessionPool(emulator, POOL_LARGE, PASSWORD, owner);
progress(`${POOL_LARGE} sessions in ${pool.seconds.toFixed(1)} s`);
const oneSealed = world.cookie.slice('wos-session='.length);
const files = new CookieFiles();
process.on('exit', () => files.remove());
const oneCookieFile = files.write('one', 'wos-session', [oneSealed]);
const smallPoolFile = files.write('pool-10k', 'wos-session', pool.sealed.slice(0, POOL_SMALL));
const largePoolFile = files.write('pool-50k', 'wos-session', pool.sealed);

// ---- in process: our session read against the crypto floor -------------------------------------

/** A resolver of its own module: `tokens.verifyOnThreadPool` differs between the first-sight rows. */
async function resolverWith(verifyOnThreadPool: boolean) {
  @Module({
    imports: [
      AuthKitModule.forRoot({
        ...authkit,
        ...EXTRA_OPTIONS,
        // Extra token options kept: only where the RSA check runs differs.
        tokens: {
          ...(EXTRA_OPTIONS.tokens as AuthKitTokenOptions | undefined),
          verifyOnThreadPool,
        },
      }),
    ],
  })
  class MicroModule {}
  const app = await NestFactory.create(MicroModule, { logger: ['error'] });
  await app.init();
  return { app, resolver: app.get(SessionResolver) };
}

async function microRows() {
  // Inline is the floor's own setting (one thread): the cost comparison. The threadpool (the
  // default) adds a hand-off per call to a sequential caller's latency, shown beside it.
  const inline = await resolverWith(false);
  const pooled = await resolverWith(true);
  const jwks = (await (
    await fetch(`${emulator.url}/sso/jwks/${encodeURIComponent(emulator.clientId)}`)
  ).json()) as { keys: JsonWebKey[] };
  const [jwk] = jwks.keys;
  if (!jwk) throw new Error('emulator JWKS has no key');
  const key = createPublicKey({ key: jwk, format: 'jwk' });
  const sdkRead = sdkSessionReader({ ...emulator.connection(), cookiePassword: PASSWORD });

  // First-sight rows walk the pool, each cookie or token once (cookies from the start, tokens
  // from the middle: distinct sessions); a floor walks the same ones as its row.
  const needed = MICRO_OPS * ROUNDS + 200;
  if (2 * needed > POOL_LARGE / 2) throw new Error(`BENCH_MICRO_OPS x BENCH_ROUNDS over the pool`);
  const walk = <T>(list: readonly T[], from: number) => {
    let next = from;
    return () => {
      const item = list[next++];
      if (item === undefined || next > from + needed) throw new Error('micro pool ran out');
      return item;
    };
  };
  const sealedForOurs = walk(pool.sealed, 0);
  const sealedForFloor = walk(pool.sealed, 0);
  const sealedForPooled = walk(pool.sealed, needed);
  const tokenForOurs = walk(pool.tokens, POOL_LARGE / 2);
  const tokenForFloor = walk(pool.tokens, POOL_LARGE / 2);
  const tokenForPooled = walk(pool.tokens, POOL_LARGE / 2 + needed);
  const readWith =
    (resolver: SessionResolver) =>
    async (headers: Record<string, string>): Promise<void> => {
      const resolution = await resolver.resolve(httpCarrier({ headers }, {}));
      if (!resolution.ok) throw new Error(`resolve failed: ${resolution.failure.reason}`);
    };
  const read = readWith(inline.resolver);
  const readPooled = readWith(pooled.resolver);
  const counted = { ops: MICRO_OPS };
  const stats = await measureOps(
    {
      cookieFloor: { op: () => cookieFloor(sealedForFloor(), PASSWORD, key), ...counted },
      cookieFirst: { op: () => read({ cookie: `wos-session=${sealedForOurs()}` }), ...counted },
      cookieRepeat: { op: () => read({ cookie: world.cookie }) },
      sdk: {
        op: async () => {
          if (!(await sdkRead(oneSealed)).includes('beta')) throw new Error('SDK: no beta');
        },
      },
      bearerFloor: { op: () => bearerFloor(tokenForFloor(), key), ...counted },
      bearerFirst: { op: () => read({ authorization: `Bearer ${tokenForOurs()}` }), ...counted },
      cookieFirstPooled: {
        op: () => readPooled({ cookie: `wos-session=${sealedForPooled()}` }),
        ...counted,
      },
      bearerFirstPooled: {
        op: () => readPooled({ authorization: `Bearer ${tokenForPooled()}` }),
        ...counted,
      },
    },
    { rounds: ROUNDS, seconds: MICRO_SECONDS, warmupOps: 200 },
  );
  await Promise.all([inline.app.close(), pooled.app.close()]);
  return stats;
}

const micro = await microRows();
progress('in-process rows done');

// ---- over HTTP: closed-loop rows, then the fixed rate ------------------------------------------

type Key = 'bare' | 'bareCookie' | 'unauth' | 'cached' | 'pool10k' | 'pool50k' | 'sdk';

interface RateStats {
  sentPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  loopP99Ms: number;
  serverUsPerReq: number;
  failures: number;
  loopP99Rounds: number[];
}

type Upstream = { authenticate: number; refresh: number; jwks: number };

/** Calls the apps made to the emulator since `before` (a copy of its counters). */
function upstreamSince(before: typeof emulator.calls): Upstream {
  return {
    authenticate: emulator.calls.authenticate - before.authenticate,
    refresh: emulator.calls.refresh - before.refresh,
    jwks: emulator.calls.jwks - before.jwks,
  };
}

interface PlatformResult {
  stats: Record<Key, RowStats>;
  upstream: Upstream;
  memory: { cached: AppMemory; pool: AppMemory; after: AppMemory };
  /** How long the 50k first sights of the warm-up pass took. */
  warmSeconds: number;
  rate?: { rows: Record<'bare' | 'fresh' | 'sdk', RateStats>; upstream: Upstream };
}

/** One GET from here before timing: a row that answers wrongly must not be timed. */
async function expectStatus(app: AppHandle, path: string, status: number, cookie?: string) {
  const res = await fetch(app.url + path, { headers: cookie ? { cookie } : {} });
  await res.text();
  if (res.status !== status) throw new Error(`${app.url}${path}: ${res.status}, not ${status}`);
}

/** Sends every cookie of `file` once (closed loop); throws unless each was answered 2xx. */
async function seeAll(app: AppHandle, path: string, file: string, expected: number) {
  const result = await runLoad({
    url: app.url + path,
    cookieFile: file,
    pick: 'once',
    connections: CONNECTIONS,
    seconds: 600,
    warmupSeconds: 0,
  });
  if (result.totalRequests !== expected || result.non2xx || result.errors) {
    throw new Error(
      `warm-up of ${expected} sessions: ${result.totalRequests} answered, ` +
        `${result.non2xx} non-2xx, ${result.errors} errors (${result.firstError ?? ''})`,
    );
  }
}

const sdkRoute: SdkRouteOptions = { ...emulator.connection(), cookiePassword: PASSWORD };
const authkitOptions = { ...authkit, ...EXTRA_OPTIONS };

async function platformRows(platform: 'express' | 'fastify'): Promise<PlatformResult> {
  const start = (withAuthKit: boolean) =>
    startApp(
      withAuthKit
        ? { kind: 'http', platform, lib: NEW_LIB, authkit: authkitOptions }
        : { kind: 'http', platform, sdk: sdkRoute },
      { nodeArgs: APP_NODE_ARGS },
    );
  const bare = await start(false);
  // Two AuthKit processes: one that only ever sees the one cookie (unauth, cached: the code
  // path) and one holding the pools (their rows: what a large working set adds, heap and GC).
  const ours = await start(true);
  const pooled = await start(true);
  for (const app of [ours, pooled]) {
    await expectStatus(app, '/flag', 401); // the guard is really there
    await expectStatus(app, '/flag', 200, world.cookie); // first sight: verified and cached
    await expectStatus(app, '/none', 200);
  }
  await expectStatus(bare, '/none', 200, world.cookie);
  await expectStatus(bare, '/sdk', 403);
  await expectStatus(bare, '/sdk', 200, world.cookie);

  const cachedMemory = await pooled.memory();
  progress(`${platform}: pool warm-up`);
  const warmStart = process.hrtime.bigint();
  await seeAll(pooled, '/flag', largePoolFile, POOL_LARGE);
  const warmSeconds = Number(process.hrtime.bigint() - warmStart) / 1e9;
  const poolMemory = await pooled.memory();

  const rows: Record<Key, Row> = {
    bare: { app: bare, path: '/none' },
    // The bare app gets the same Cookie header: parsing its bytes is not AuthKit's cost.
    bareCookie: { app: bare, path: '/none', cookieFile: oneCookieFile },
    unauth: { app: ours, path: '/none' },
    cached: { app: ours, path: '/flag', cookieFile: oneCookieFile },
    pool10k: { app: pooled, path: '/flag', cookieFile: smallPoolFile },
    pool50k: { app: pooled, path: '/flag', cookieFile: largePoolFile },
    sdk: { app: bare, path: '/sdk', cookieFile: oneCookieFile },
  };
  const calls0 = { ...emulator.calls };
  const stats = await measure(rows, { ...measuring, log: progress, loopDelay: true });
  const upstream = upstreamSince(calls0);
  const afterMemory = await pooled.memory();
  await Promise.all([ours.close(), pooled.close()]);

  const result: PlatformResult = {
    stats,
    upstream,
    memory: { cached: cachedMemory, pool: poolMemory, after: afterMemory },
    warmSeconds,
  };
  if (RATE_PLATFORMS.includes(platform)) result.rate = await rateRows(bare, start);
  await bare.close();
  return result;
}

/**
 * 1,000 req/s open loop: the bare app's /none, then /flag on an AuthKit app that has never seen
 * the sessions (every request unseals and verifies), then the SDK guard on the same kind of
 * sessions. Each round takes the next slice of the pool; a new AuthKit process has seen none.
 */
async function rateRows(
  bare: AppHandle,
  start: (withAuthKit: boolean) => Promise<AppHandle>,
): Promise<NonNullable<PlatformResult['rate']>> {
  const perRound = Math.ceil(RATE * RATE_SECONDS);
  const warm = 3000;
  if (perRound * ROUNDS + warm > POOL_LARGE) throw new Error('rate rounds need more sessions');
  const fresh = await start(true);
  // JIT warm-up on sessions the rounds never use, then a round's slice is all first sights.
  const warmFile = files.write('rate-warm', 'wos-session', pool.sealed.slice(-warm));
  await seeAll(fresh, '/flag', warmFile, warm);
  await seeAll(bare, '/sdk', warmFile, warm);
  const slices = Array.from({ length: ROUNDS }, (_, r) =>
    files.write(`rate-${r}`, 'wos-session', pool.sealed.slice(r * perRound, (r + 1) * perRound)),
  );
  type RateKey = 'bare' | 'fresh' | 'sdk';
  const target: Record<RateKey, { app: AppHandle; path: string; sessions: boolean }> = {
    bare: { app: bare, path: '/none', sessions: false },
    fresh: { app: fresh, path: '/flag', sessions: true },
    // The SDK keeps nothing between requests: any session is a first sight to it.
    sdk: { app: bare, path: '/sdk', sessions: true },
  };
  const keys: RateKey[] = ['bare', 'fresh', 'sdk'];
  const calls0 = { ...emulator.calls };
  const rounds = new Map<RateKey, Omit<RateStats, 'loopP99Rounds'>[]>(keys.map((k) => [k, []]));
  for (let r = 0; r < ROUNDS; r++) {
    for (const key of r % 2 === 0 ? keys : [...keys].reverse()) {
      const { app, path, sessions } = target[key];
      await app.resetLoopDelay();
      const cpu0 = await app.cpuMicros();
      const result = await runLoad({
        url: app.url + path,
        rate: RATE,
        seconds: RATE_SECONDS,
        warmupSeconds: 0,
        connections: CONNECTIONS,
        ...(sessions ? { cookieFile: slices[r], pick: 'once' as const } : {}),
      });
      const cpu = (await app.cpuMicros()) - cpu0;
      const loop = await app.loopDelay();
      rounds.get(key)?.push({
        sentPerSecond: result.rps,
        p50Ms: result.p50Ms,
        p99Ms: result.p99Ms,
        loopP99Ms: loop.p99Ms,
        serverUsPerReq: cpu / Math.max(1, result.totalRequests),
        failures: result.non2xx + result.errors,
      });
      progress(`  rate round ${r + 1}/${ROUNDS} ${key}: loop p99 ${loop.p99Ms.toFixed(2)} ms`);
    }
  }
  const upstream = upstreamSince(calls0);
  await fresh.close();
  const summary = (list: Omit<RateStats, 'loopP99Rounds'>[]): RateStats => ({
    sentPerSecond: median(list.map((x) => x.sentPerSecond)),
    p50Ms: median(list.map((x) => x.p50Ms)),
    p99Ms: median(list.map((x) => x.p99Ms)),
    loopP99Ms: median(list.map((x) => x.loopP99Ms)),
    serverUsPerReq: median(list.map((x) => x.serverUsPerReq)),
    failures: list.reduce((n, x) => n + x.failures, 0),
    loopP99Rounds: list.map((x) => x.loopP99Ms),
  });
  return {
    rows: {
      bare: summary(rounds.get('bare') ?? []),
      fresh: summary(rounds.get('fresh') ?? []),
      sdk: summary(rounds.get('sdk') ?? []),
    },
    upstream,
  };
}

const results: Partial<Record<'express' | 'fastify', PlatformResult>> = {};
for (const platform of PLATFORMS) results[platform] = await platformRows(platform);
await emulator.close();

// ---- report ------------------------------------------------------------------------------------

console.log(
  runHeading('speed', {
    started,
    loadBefore,
    generatorLabel,
    extra:
      `${POOL_LARGE.toLocaleString('en-US')} sessions made in ` + `${pool.seconds.toFixed(1)} s; `,
  }),
);
for (const note of notes) console.log(note);

const verdict = (ok: boolean) => (ok ? 'ok' : 'MISSED');

console.log(
  `\nIn process, sequential (bench process; medians of ${ROUNDS} rounds; first-sight rows ` +
    `${MICRO_OPS.toLocaleString('en-US')} distinct sessions a round, others ${MICRO_SECONDS} s; ` +
    'vs floor: median of per-round µs/op ratios)',
);
const microLine = (
  label: string,
  row: MicroStats,
  floor?: MicroStats,
  limit?: number,
): string[] => {
  const cost = floor ? costRatio(row, floor) : undefined;
  return [
    label,
    int(row.opsPerSecond),
    fixed(row.microsPerOp, 1),
    cost === undefined ? '' : ratio(cost),
    limit === undefined || cost === undefined ? '' : `<= ${ratio(limit)} ${verdict(cost <= limit)}`,
  ];
};
table(
  ['row', 'ops/s', 'µs/op', 'vs floor', 'target'],
  [
    microLine('cookie: crypto floor (node:crypto, plain)', micro.cookieFloor),
    microLine(
      'cookie: ours, first sight, RSA inline (+ cache insert)',
      micro.cookieFirst,
      micro.cookieFloor,
      1.3,
    ),
    microLine(
      '  same, RSA on the threadpool (default): latency',
      micro.cookieFirstPooled,
      micro.cookieFloor,
    ),
    microLine('cookie: ours, repeat (cached)', micro.cookieRepeat, micro.cookieFloor),
    microLine('cookie: SDK loadSealedSession().authenticate()', micro.sdk, micro.cookieFloor),
    microLine('bearer: crypto floor (RSA verify + 2 JSON.parse)', micro.bearerFloor),
    microLine('bearer: ours, first sight, RSA inline', micro.bearerFirst, micro.bearerFloor, 1.4),
    microLine(
      '  same, RSA on the threadpool (default): latency',
      micro.bearerFirstPooled,
      micro.bearerFloor,
    ),
  ],
);

const LABELS: Record<Key, string> = {
  bare: 'bare',
  bareCookie: 'bare+cookie',
  unauth: 'unauth',
  cached: 'cached',
  pool10k: 'pool 10k',
  pool50k: 'pool 50k',
  sdk: 'sdk guard',
};
const BASE: Partial<Record<Key, Key>> = {
  unauth: 'bare',
  cached: 'bareCookie',
  pool10k: 'cached',
  pool50k: 'cached',
  sdk: 'bareCookie',
};
const TARGETS: Record<'express' | 'fastify', Partial<Record<Key, number>>> = {
  express: { unauth: 0.95, cached: 0.85, pool50k: 0.8 },
  fastify: { unauth: 0.95, cached: 0.7, pool50k: 0.8 },
};
const mb = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MB`;

for (const platform of PLATFORMS) {
  const result = results[platform];
  if (!result) continue;
  const { stats, upstream, memory, warmSeconds } = result;
  console.log(
    `\n${platform === 'express' ? 'Express' : 'Fastify'}: closed loop, app and generator in ` +
      'separate processes; unauth and cached: an AuthKit app that has seen one cookie; pool ' +
      'rows: another that has seen all 50k; vs: median of per-round req/s ratios to the row named',
  );
  table(
    ['row', 'req/s', 'vs', 'base', 'p50 ms', 'p99 ms', 'app µs/req', 'loop p99 ms', 'target'],
    (Object.keys(LABELS) as Key[]).map((key) => {
      const row = stats[key];
      const baseKey = BASE[key];
      const base = baseKey && stats[baseKey];
      const vs = base ? paired(row, base, (a, b) => a.rps / b.rps) : undefined;
      const limit = TARGETS[platform][key];
      return [
        LABELS[key],
        int(row.rps) + failedNote(row),
        vs === undefined ? '' : ratio(vs),
        baseKey ? LABELS[baseKey] : '',
        fixed(row.p50Ms),
        fixed(row.p99Ms),
        fixed(row.serverUsPerReq, 1),
        fixed(row.loopP99Ms),
        limit === undefined || vs === undefined
          ? ''
          : `>= ${ratio(limit)} ${verdict(vs >= limit && !row.failures)}`,
      ];
    }),
  );
  const all = Object.values<RowStats>(stats);
  const span = (pick: (s: RowStats) => number) =>
    `${fixed(Math.min(...all.map(pick)))}–${fixed(Math.max(...all.map(pick)))}`;
  console.log(
    `cores used (row medians): app ${span((s) => s.serverCores)}, generator ` +
      `${span((s) => s.loadCores)}; upstream calls during the measured rows: authenticate ` +
      `${upstream.authenticate}, refresh ${upstream.refresh}, jwks ${upstream.jwks}`,
  );
  const perSession = (memory.pool.heapUsed - memory.cached.heapUsed) / POOL_LARGE;
  const figures = (m: AppMemory) =>
    `heapUsed ${mb(m.heapUsed)} (heapTotal ${mb(m.heapTotal)}, external ${mb(m.external)}), ` +
    `rss ${mb(m.rss)}`;
  console.log(
    `pool warm-up: ${POOL_LARGE.toLocaleString('en-US')} first sights in ${fixed(warmSeconds, 1)} s ` +
      `(${int(POOL_LARGE / warmSeconds)} req/s, ${CONNECTIONS} connections, node worker)`,
  );
  console.log(
    `pooled AuthKit app memory (${memory.cached.collected ? 'after 2 forced full GCs, --expose-gc' : 'no GC forced'}):` +
      `\n  one session seen:        ${figures(memory.cached)}` +
      `\n  after the 50k warm-up:   ${figures(memory.pool)}` +
      `\n  after all rows:          ${figures(memory.after)}` +
      `\n  => ${int(perSession)} bytes of heap per cached session ((heapUsed after 50k - ` +
      'heapUsed with one) / 50,000)',
  );
}

for (const platform of PLATFORMS) {
  const measured = results[platform]?.rate;
  if (!measured) continue;
  const { rows: rate, upstream } = measured;
  console.log(
    `\n${platform === 'express' ? 'Express' : 'Fastify'}: fixed rate ${int(RATE)} req/s, open ` +
      `loop (node worker; latency from each request's scheduled time), ${RATE_SECONDS} s x ` +
      `${ROUNDS} rounds; sessions are first sights: each request a session the app never ` +
      `saw; upstream calls during these rows: authenticate ${upstream.authenticate}, refresh ` +
      `${upstream.refresh}, jwks ${upstream.jwks}`,
  );
  const margin = median(
    rate.fresh.loopP99Rounds.map((x, i) => x - (rate.bare.loopP99Rounds[i] ?? x)),
  );
  const line = (label: string, row: RateStats, target = ''): string[] => [
    label,
    int(row.sentPerSecond) + (row.failures ? ` FAILED (${row.failures})` : ''),
    fixed(row.p50Ms),
    fixed(row.p99Ms),
    fixed(row.loopP99Ms),
    fixed(row.serverUsPerReq, 1),
    target,
  ];
  table(
    ['row', 'req/s', 'p50 ms', 'p99 ms', 'loop p99 ms', 'app µs/req', 'target'],
    [
      line('(a) bare app, GET /none', rate.bare),
      line(
        '(b) AuthKit /flag, fresh sessions',
        rate.fresh,
        `<= (a) + 2 ms: +${fixed(margin)} ms ${verdict(margin <= 2 && !rate.fresh.failures)}`,
      ),
      line('(c) SDK guard /sdk, fresh sessions', rate.sdk),
    ],
  );
}
if (PLATFORMS.length) {
  console.log(
    "\nloop p99: the app's perf_hooks.monitorEventLoopDelay (1 ms resolution, so an idle loop " +
      'reads ~1 ms), reset before each measurement and read after it. app µs/req: the app ' +
      "process's CPU time over the measurement / requests answered. wrk counts only >= 400 as " +
      'errors; every row was first checked for a 200 (or the expected refusal) from here.',
  );
}
