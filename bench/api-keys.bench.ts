// What an API key costs a route (issue 13): GET /keys/reports under @AllowApiKeys() +
// @RequirePermission, three ways from one run: a Bearer access token (the reference: a cached
// session), API keys the validator has cached (the normal case), and API keys it has not (each
// request one validation upstream). As access.bench: each app in its own process, the load
// generator in another, Express and Fastify, interleaved rounds, ratios paired per round. The
// upstream is the emulator in this process, over loopback, through the real @workos-inc/node
// client; it counts the validations, which are reported per row.
// Run: npm run bench (or node .bench-dist/bench/api-keys.bench.js after tsc -p bench). ~1 min.
// BENCH_ROUNDS (5), BENCH_SLICE_SECONDS (2, whole seconds), BENCH_CONNECTIONS (16),
// BENCH_THREADS (1), BENCH_PLATFORMS (express,fastify), BENCH_CACHED_KEYS (100),
// BENCH_UNCACHED_KEYS (12,000), BENCH_GENERATOR=node, BENCH_VERBOSE=1 (progress on stderr).
import { loadavg } from 'node:os';
import { API_KEY_PATH } from './support/api-key-routes.js';
import { startApp } from './support/apps.js';
import { expectStatus } from './support/expect-status.js';
import {
  failedNote,
  fixed,
  int,
  measure,
  paired,
  ratio,
  table,
  type RowStats,
} from './support/rows.js';
import { CookieFiles } from './support/session-pool.js';
import { ORGANIZATION, PERMISSION, startBenchWorld } from './support/world.js';
import {
  NEW_LIB,
  chooseGenerator,
  env,
  platformName,
  platformsOf,
  progressSince,
  runHeading,
} from './support/settings.js';

const started = process.hrtime.bigint();
/** Keys the cached row draws from at random: each validated once, then served from the cache. */
const CACHED_KEYS = Math.max(1, env('BENCH_CACHED_KEYS', 100));
/**
 * Keys the uncached row sends in order, round and round. More than the validator keeps (10,000
 * entries, least recently validated dropped first), so a key is always gone by the time it comes
 * back: every request misses, with no production option to turn the cache off.
 */
const UNCACHED_KEYS = env('BENCH_UNCACHED_KEYS', 12_000);
/** The validator's positive cache window (apiKeys.ttlSeconds, left at its default here). */
const KEY_TTL_SECONDS = 60;
const PLATFORMS = platformsOf(process.env.BENCH_PLATFORMS);
const progress = progressSince(started);
const loadBefore = loadavg();
const notes: string[] = [];

const { generatorLabel, measuring } = chooseGenerator(notes);

// ---- the world: a Bearer token and API keys of the bench organization ----------------------

const world = await startBenchWorld();
const { emulator, authkit } = world;
const { accessToken } = await emulator.createSession({
  userId: 'user_bench',
  organizationId: ORGANIZATION,
});
const bearer = { authorization: `Bearer ${accessToken}` };
const mintKeys = (count: number, permissions: string[]) =>
  Array.from(
    { length: count },
    () =>
      emulator.createApiKey({ owner: { type: 'organization', id: ORGANIZATION }, permissions })
        .value,
  );
const cachedKeys = mintKeys(CACHED_KEYS, [PERMISSION]);
const uncachedKeys = mintKeys(UNCACHED_KEYS, [PERMISSION]);
const [unpermittedKey = ''] = mintKeys(1, []);
const files = new CookieFiles();
process.on('exit', () => files.remove());
const asBearer = (keys: string[]) => keys.map((key) => `Bearer ${key}`);
const cachedFile = files.writeLines('keys-cached', asBearer(cachedKeys));
const uncachedFile = files.writeLines('keys-uncached', asBearer(uncachedKeys));
progress(`${CACHED_KEYS + UNCACHED_KEYS + 1} API keys minted`);

// ---- over HTTP: Bearer, cached key, uncached key; closed loop, interleaved --------------------

type Key = 'bearer' | 'cached' | 'uncached';
const KEYS: readonly Key[] = ['bearer', 'cached', 'uncached'];

interface PlatformResult {
  stats: Record<Key, RowStats>;
  /** Validations the emulator answered while each row ran (its untimed pass included). */
  validations: Record<Key, number>;
  /** Requests each row's generator saw answered over the same measurements. */
  answered: Record<Key, number>;
}

const perKey = <T>(value: () => T) =>
  Object.fromEntries(KEYS.map((key) => [key, value()])) as Record<Key, T>;

async function platformRows(platform: 'express' | 'fastify'): Promise<PlatformResult> {
  const app = await startApp({ kind: 'http', platform, lib: NEW_LIB, authkit });
  const key = (value: string) => ({ authorization: `Bearer ${value}` });
  // Each part bites, and every credential of the rows passes (the checks spend a few
  // validations before the count below starts; the uncached row meets its last key only after
  // every other, by when the cache has dropped it).
  await expectStatus(app, API_KEY_PATH, 401);
  await expectStatus(app, API_KEY_PATH, 401, key('sk_test_unknown_0123456789'), 'INVALID_API_KEY');
  await expectStatus(app, API_KEY_PATH, 403, key(unpermittedKey), 'PERMISSION_DENIED');
  await expectStatus(app, API_KEY_PATH, 200, bearer);
  await expectStatus(app, API_KEY_PATH, 200, key(cachedKeys[0] ?? ''));
  await expectStatus(app, API_KEY_PATH, 200, key(uncachedKeys.at(-1) ?? ''));

  const validations = perKey(() => 0);
  const answered = perKey(() => 0);
  let seen = emulator.calls.apiKeyValidations;
  const stats = await measure<Key>(
    {
      bearer: { app, path: API_KEY_PATH, headers: bearer },
      cached: { app, path: API_KEY_PATH, cookieFile: cachedFile, lineHeader: 'Authorization' },
      uncached: {
        app,
        path: API_KEY_PATH,
        cookieFile: uncachedFile,
        lineHeader: 'Authorization',
        pick: 'cycle',
      },
    },
    {
      ...measuring,
      log: progress,
      // Measurements run one at a time: the emulator's count since the last one is this row's
      // (give or take the few validations still in flight when a generator stops).
      measured: (row, result) => {
        const now = emulator.calls.apiKeyValidations;
        validations[row] += now - seen;
        seen = now;
        answered[row] += result.totalRequests;
      },
    },
  );
  await app.close();
  return { stats, validations, answered };
}

const results: Partial<Record<'express' | 'fastify', PlatformResult>> = {};
for (const platform of PLATFORMS) {
  progress(`${platform}: rows`);
  results[platform] = await platformRows(platform);
}
await emulator.close();

// ---- report ------------------------------------------------------------------------------------

console.log(runHeading('api-keys', { started, loadBefore, generatorLabel }));
for (const note of notes) console.log(note);

const LABELS: Record<Key, string> = {
  bearer: 'Bearer access token (cached session)',
  cached: `API key, cached (${int(CACHED_KEYS)} keys, random)`,
  uncached: `API key, uncached (${int(UNCACHED_KEYS)} keys, in turn)`,
};

const summary: string[][] = [];
for (const platform of PLATFORMS) {
  const result = results[platform];
  if (!result) continue;
  const { stats, validations, answered } = result;
  console.log(
    `\n${platformName(platform)}: GET ${API_KEY_PATH} (@AllowApiKeys + @RequirePermission), ` +
      'closed loop, app and generator in separate processes; vs Bearer: median of per-round ' +
      'ratios of time per request (Bearer req/s / this row); validations: upstream, while the ' +
      'row ran (untimed pass included), per request answered',
  );
  table(
    ['row', 'req/s', 'vs Bearer', 'p50 ms', 'p99 ms', 'app µs/req', 'validations', 'per req'],
    KEYS.map((key) => {
      const row = stats[key];
      return [
        LABELS[key],
        int(row.rps) + failedNote(row),
        key === 'bearer' ? '1.00x' : ratio(paired(stats.bearer, row, (b, r) => b.rps / r.rps)),
        fixed(row.p50Ms),
        fixed(row.p99Ms),
        fixed(row.serverUsPerReq, 1),
        int(validations[key]),
        fixed(validations[key] / Math.max(1, answered[key]), 4),
      ];
    }),
  );
  console.log(
    `validations expected: Bearer none; cached ~${int(CACHED_KEYS)} (one per key, again after ` +
      `each ${KEY_TTL_SECONDS} s cache window); uncached one per request, a little over when ` +
      'few are answered (the requests in flight when a generator stops, up to one per ' +
      'connection, were validated but not counted)',
  );
  const missRate = validations.uncached / Math.max(1, answered.uncached);
  if (missRate < 0.95) {
    console.log(
      `uncached row: only ${fixed(missRate)} validations per request: the validator now keeps ` +
        `more than ${int(UNCACHED_KEYS)} keys; raise BENCH_UNCACHED_KEYS above its maxEntries`,
    );
  }
  summary.push([
    platformName(platform),
    int(stats.bearer.rps),
    ratio(paired(stats.bearer, stats.cached, (b, r) => b.rps / r.rps)),
    ratio(paired(stats.bearer, stats.uncached, (b, r) => b.rps / r.rps)),
    `${int(stats.uncached.rps)} req/s`,
    fixed(
      paired(stats.cached, stats.uncached, (c, u) => 1e6 / u.rps - 1e6 / c.rps),
      0,
    ),
    fixed(validations.cached / CACHED_KEYS),
    fixed(missRate),
  ]);
}
if (summary.length) {
  console.log('\nAPI key vs Bearer on the same route, time per request, median of rounds:');
  table(
    [
      'platform',
      'Bearer req/s',
      'cached key',
      'uncached key',
      'uncached',
      '+µs/req uncached',
      'validations/key cached',
      'validations/req uncached',
    ],
    summary,
  );
  console.log(
    "+µs/req uncached: 1e6 / req/s, uncached less cached, per round (the app's time per " +
      "request at full load, all connections together: throughput lost, not one request's " +
      'latency, which p50 shows).\n' +
      'Uncached means every request is a POST /api_keys/validations to the emulator: an HTTP ' +
      "round trip over loopback through the real @workos-inc/node client, plus the emulator's " +
      'own work in this bench process, on the same cores as the app and the generator. Against ' +
      'WorkOS itself a miss waits a network round trip instead (tens of ms), so treat this ' +
      'row as a floor; a key is validated once per cache window (apiKeys.ttlSeconds, 60 s by ' +
      'default) per instance, so misses are rare unless keys are many and each seldom seen.\n' +
      "app µs/req: the app process's CPU time over a measurement / requests answered. Every " +
      'credential was first checked from here (401 with none or an unknown key, 403 for a key ' +
      "without the permission, 200 for each row's).",
  );
}
