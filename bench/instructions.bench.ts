// Instructions per request, counted by callgrind in the app's process. Unlike req/s and CPU
// time they do not move when other work shares the machine (on 2 busy cores those moved by
// ±50% between runs), so a small difference between two builds is visible here.
// Optional (not in npm run bench), needs valgrind, ~15 min on 2 cores: npm run bench:instructions.
// BENCH_INSTR_PLATFORMS (fastify[,express]), BENCH_INSTR_WARM (3000), BENCH_INSTR_N (1500);
// GraphQL rows use a third of each.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { startBenchWorld } from './support/world.js';
import { startApp, type AppSpec } from './support/apps.js';
import { oldLib } from './support/old-lib.js';
import { ratio, table } from './support/rows.js';

if (spawnSync('valgrind', ['--version']).status !== 0) {
  console.log('valgrind not found: no instruction counts');
  process.exit(0);
}

const NEW_LIB = process.env.BENCH_LIB ?? fileURLToPath(new URL('../lib/index.js', import.meta.url));
const WARM = Number(process.env.BENCH_INSTR_WARM ?? 3000);
const COUNTED = Number(process.env.BENCH_INSTR_N ?? 1500);
const PLATFORMS = (process.env.BENCH_INSTR_PLATFORMS ?? 'fastify')
  .split(',')
  .filter((p): p is 'express' | 'fastify' => p === 'express' || p === 'fastify');
/** Rows counted at once: the counts do not depend on how busy the machine is. */
const PARALLEL = 2;

const { emulator, cookie, authkit } = await startBenchWorld();
const old = oldLib();

interface Probe {
  spec: AppSpec;
  path: string;
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: string;
  /** One request with the session cookie first: it turns the request context on for good. */
  prime?: boolean;
  warm: number;
  counted: number;
}

/** Per request, in thousands of instructions. */
interface Count {
  /** Everything but JIT compilation (a warm-up cost that goes on in compiler threads). */
  work: number;
  gc: number;
  sha256: number;
}

function send(agent: http.Agent, url: string, probe: Probe, headers = probe.headers) {
  return new Promise<boolean>((resolve, reject) => {
    const req = http.request(
      `${url}${probe.path}`,
      { method: probe.method ?? 'GET', headers, agent },
      (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve(res.statusCode === 200 && !text.includes('"errors"')));
      },
    );
    req.on('error', reject);
    req.end(probe.body);
  });
}

/** `n` requests, four at a time; throws if any is refused. */
async function drive(agent: http.Agent, url: string, probe: Probe, n: number): Promise<void> {
  let left = n;
  const worker = async () => {
    while (left-- > 0) {
      if (!(await send(agent, url, probe))) throw new Error(`${probe.path}: refused`);
    }
  };
  await Promise.all(Array.from({ length: 4 }, worker));
}

/** Self instructions per function name, from a callgrind dump (name-compressed format). */
function selfCosts(text: string): Map<string, number> {
  const names = new Map<string, string>();
  const costs = new Map<string, number>();
  let fn = '';
  let skip = false;
  const named = (id: string, name: string | undefined) => {
    if (name) names.set(id, name);
    return names.get(id) ?? id;
  };
  for (const line of text.split('\n')) {
    const def = /^(c?fn)=\((\d+)\)(?: (.*))?$/.exec(line);
    if (def) {
      const name = named(def[2] ?? '', def[3]);
      if (def[1] === 'fn') fn = name;
      continue;
    }
    if (line.startsWith('calls=')) {
      skip = true; // the next cost line is the callee's inclusive cost
      continue;
    }
    if (!/^[\d+*-]/.test(line)) continue;
    if (skip) {
      skip = false;
      continue;
    }
    const cost = Number(line.trim().split(/\s+/).at(-1));
    if (Number.isFinite(cost)) costs.set(fn, (costs.get(fn) ?? 0) + cost);
  }
  return costs;
}

const JIT = /v8::internal::(compiler|maglev)::/;
const GC =
  /Marking|Sweeper|Scaveng|MarkCompact|Evacuat|RememberedSet|SlotSet|Ephemeron|GlobalHandles|heap::base|Heap::|MemoryChunk|IteratePointers|SizeFromMap/;

async function countInstructions(probe: Probe): Promise<Count> {
  const dir = mkdtempSync(join(tmpdir(), 'authkit-callgrind-'));
  const app = await startApp(probe.spec, {
    wrapper: [
      'valgrind',
      '--tool=callgrind',
      '--smc-check=all-non-file', // V8 writes code into anonymous memory
      `--callgrind-out-file=${dir}/cg.%p`,
      '--dump-instr=no',
    ],
    startSeconds: 900,
  });
  const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
  try {
    if (probe.prime) await send(agent, app.url, { ...probe, path: '/flag' }, { cookie });
    await drive(agent, app.url, probe, probe.warm);
    execFileSync('callgrind_control', ['-z', String(app.pid)], { stdio: 'ignore' });
    await drive(agent, app.url, probe, probe.counted);
    execFileSync('callgrind_control', ['-d', String(app.pid)], { stdio: 'ignore' });
    // The dump is written by the tool between two guest instructions: wait for it.
    for (let waited = 0; ; waited += 200) {
      const dump = readdirSync(dir).find((f) => f.endsWith('.1'));
      const text = dump ? readFileSync(join(dir, dump), 'utf8') : '';
      if (/\ntotals: \d+/.test(text)) {
        const per = (pick: (name: string) => boolean) =>
          [...selfCosts(text)].reduce((n, [name, c]) => (pick(name) ? n + c : n), 0) /
          probe.counted /
          1000;
        return {
          work: per((name) => !JIT.test(name)),
          gc: per((name) => GC.test(name)),
          sha256: per((name) => /sha256/i.test(name)),
        };
      }
      if (waited > 60_000) throw new Error('callgrind dump not written');
      await sleep(200);
    }
  } finally {
    agent.destroy();
    process.kill(app.pid, 'SIGKILL');
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Counts every probe, PARALLEL at a time, in order. */
async function countAll<K extends string>(probes: Record<K, Probe>): Promise<Record<K, Count>> {
  const keys = Object.keys(probes) as K[];
  const results = {} as Record<K, Count>;
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < keys.length; i = next++) {
      const key = keys[i] as K;
      results[key] = await countInstructions(probes[key]);
    }
  };
  await Promise.all(Array.from({ length: PARALLEL }, worker));
  return results;
}

// The old lib predates the option groups: it finds the emulator under the flat names.
const oldAuthkit = { ...authkit, ...emulator.connection() };
const http1 = (lib: string | undefined, platform: 'express' | 'fastify'): AppSpec => ({
  kind: 'http',
  platform,
  ...(lib ? { lib, authkit: lib === NEW_LIB ? authkit : oldAuthkit } : {}),
});
const counts = { warm: WARM, counted: COUNTED };
const started = Date.now();

console.log(
  `node ${process.version}; instructions per request in the app's process (callgrind), ` +
    `after ${WARM} warm-up requests, over ${COUNTED} (GraphQL: a third of each); ` +
    'JIT compilation excluded. vs bare = bare / this (the throughput ratio if CPU-bound)',
);
if (!old.ok) console.log(`old lib not built: ${old.reason}`);
const kilo = (n: number) => n.toFixed(1);

for (const platform of PLATFORMS) {
  const base = { ...counts, path: '/none' };
  const flag = { ...counts, path: '/flag', headers: { cookie } };
  const probes: Record<string, Probe> = {
    bareNone: { ...base, spec: http1(undefined, platform) },
    newNoneFresh: { ...base, spec: http1(NEW_LIB, platform) },
    newNonePrimed: { ...base, spec: http1(NEW_LIB, platform), prime: true },
    bareCookie: { ...base, spec: http1(undefined, platform), headers: { cookie } },
    newFlag: { ...flag, spec: http1(NEW_LIB, platform) },
  };
  if (old.ok) {
    probes.oldNonePrimed = { ...base, spec: http1(old.index, platform), prime: true };
    probes.oldFlag = { ...flag, spec: http1(old.index, platform) };
  }
  const c = await countAll(probes);
  const line = (label: string, key: string, baseKey: string): string[] => {
    const row = c[key];
    const bare = c[baseKey];
    if (!row || !bare) return [label];
    return [label, kilo(row.work), ratio(bare.work / row.work), kilo(row.gc), kilo(row.sha256)];
  };
  console.log(`\n${platform === 'express' ? 'Express' : 'Fastify'}`);
  table(
    ['row', 'k instr/req', 'vs bare', 'of which GC', 'sha256'],
    [
      line('(a) GET /none, no credential: bare app', 'bareNone', 'bareNone'),
      line('    AuthKit, process never saw a credential', 'newNoneFresh', 'bareNone'),
      line('    AuthKit, after one credentialed request', 'newNonePrimed', 'bareNone'),
      line(
        `    old ${old.ok ? old.commit : ''}, after one credentialed request`,
        'oldNonePrimed',
        'bareNone',
      ),
      line('(b) GET /none + session cookie: bare app', 'bareCookie', 'bareCookie'),
      line("    @RequireFlag('beta'), seen session", 'newFlag', 'bareCookie'),
      line(`    old ${old.ok ? old.commit : ''}, same`, 'oldFlag', 'bareCookie'),
    ],
  );
}

// GraphQL: a query is ~10x a plain request, so fewer of them.
const gql = { warm: Math.ceil(WARM / 3), counted: Math.ceil(COUNTED / 3) };
const query = (n: number) =>
  JSON.stringify({
    query: `{ report { ${Array.from({ length: n }, (_, i) => `f${i + 1}`).join(' ')} } }`,
  });
const graphqlProbe = (lib: string | undefined, n: number): Probe => ({
  ...gql,
  spec: { kind: 'graphql', platform: 'express', fields: 50, ...(lib ? { lib, authkit } : {}) },
  path: '/graphql',
  method: 'POST',
  headers: { 'content-type': 'application/json', cookie },
  body: query(n),
});
const g = await countAll({
  bare1: graphqlProbe(undefined, 1),
  bare50: graphqlProbe(undefined, 50),
  ours1: graphqlProbe(NEW_LIB, 1),
  ours50: graphqlProbe(NEW_LIB, 50),
});
console.log(
  "\nGraphQL (Apollo, Express): query { report { f1 … fN } }, fields under @RequireFlag('beta')",
);
// A major GC can land in one row's counted window and not another's: slopes leave GC out.
const noGc = (c: Count) => c.work - c.gc;
table(
  [
    'fields',
    'bare k instr/q',
    'bare GC',
    'ours k instr/q',
    'ours GC',
    'overhead excl. GC',
    'sha256',
  ],
  ([1, 50] as const).map((n) => {
    const bare = g[`bare${n}`];
    const ours = g[`ours${n}`];
    return [
      String(n),
      kilo(bare.work),
      kilo(bare.gc),
      kilo(ours.work),
      kilo(ours.gc),
      kilo(noGc(ours) - noGc(bare)),
      kilo(ours.sha256),
    ];
  }),
);
const slope = (a: Count, b: Count) => (noGc(b) - noGc(a)) / 49;
const perField = slope(g.ours1, g.ours50) - slope(g.bare1, g.bare50);
console.log(
  `per extra field, GC excluded: bare ${kilo(slope(g.bare1, g.bare50))}k, ours ` +
    `${kilo(slope(g.ours1, g.ours50))}k instructions: AuthKit adds ${kilo(perField)}k per guarded ` +
    `field; overhead(50) / overhead(1) = ` +
    `${((noGc(g.ours50) - noGc(g.bare50)) / (noGc(g.ours1) - noGc(g.bare1))).toFixed(2)} ` +
    '(flat = 1). sha256 (the session cache key) runs once per query.',
);
console.log(`took ${((Date.now() - started) / 60_000).toFixed(1)} min`);
await emulator.close();
