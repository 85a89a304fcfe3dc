// Rows measured from outside, interleaved (A B C, C B A, …) so the drift of a shared machine
// hits every row alike; each row reports medians over the rounds.
import { availableParallelism, loadavg } from 'node:os';
import type { AppHandle } from './apps.js';
import { runLoad, type Generator, type LoadResult, type LoadSpec } from './load.js';

export const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);
// Many short rounds beat a few long ones when other work on the machine comes and goes.
export const ROUNDS = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 5));
export const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 16);
/** Timed seconds of one row in one round: the row's BENCH_SECONDS split over the rounds. */
export const SLICE = Math.max(0.4, SECONDS / ROUNDS);

export interface Row {
  app: AppHandle;
  path: string;
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  badBodyMarker?: string;
  /** Cookie header values, one a line: each request carries a random one (a session pool). */
  cookieFile?: string;
  /** The header the file's lines fill instead of Cookie. */
  lineHeader?: string;
  /**
   * How a line is picked (LoadSpec.pick): at random by default; a `cycle` row's measurements
   * go on where the one before stopped, so no line comes back before all the others have.
   */
  pick?: 'random' | 'cycle';
}

export interface Round extends LoadResult {
  /** The app's CPU per request over the generator's whole life (warm-up included), µs. */
  serverUsPerReq: number;
  /** The app's CPU over the same span, in cores: near 1 means the app was the limit. */
  serverCores: number;
  /** The app's event-loop delay p99 over the same span, ms (when asked: `loopDelay`). */
  loopP99Ms: number;
}

export interface RowStats {
  rounds: Round[];
  rps: number;
  p50Ms: number;
  p99Ms: number;
  serverUsPerReq: number;
  serverCores: number;
  loadCores: number;
  loopP99Ms: number;
  /** Summed over the rounds: non-2xx answers, bad bodies, connection errors. */
  failures: number;
  firstError?: string;
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

/** How `measure` runs: every field has the defaults the HTTP benches share. */
export interface MeasureOptions<K extends string = string> {
  log?: (line: string) => void;
  /** The load generator (default: the node worker). */
  generate?: Generator;
  rounds?: number;
  /** Timed seconds of one row in one round. */
  slice?: number;
  /** Untimed seconds at the start of each measurement (a generator may have none: wrk). */
  warmupSeconds?: number;
  /** Seconds of the untimed pass over every row before the rounds. */
  untimedSeconds?: number;
  /** Also reset and read the app's event-loop delay around each measurement. */
  loopDelay?: boolean;
  /**
   * Told after each measurement, the untimed pass's too (`timed` false): what a row caused
   * elsewhere (upstream calls) can be counted per row, since measurements run one at a time.
   */
  measured?: (key: K, result: Round, timed: boolean) => void;
}

async function once(
  row: Row,
  seconds: number,
  warmupSeconds: number,
  generate: Generator,
  loopDelay: boolean,
  firstLine: number,
): Promise<Round> {
  const spec: LoadSpec = {
    url: row.app.url + row.path,
    connections: CONNECTIONS,
    seconds,
    warmupSeconds,
    ...(row.method ? { method: row.method } : {}),
    ...(row.headers ? { headers: row.headers } : {}),
    ...(row.body === undefined ? {} : { body: row.body }),
    ...(row.badBodyMarker === undefined ? {} : { badBodyMarker: row.badBodyMarker }),
    ...(row.cookieFile === undefined ? {} : { cookieFile: row.cookieFile }),
    ...(row.lineHeader === undefined ? {} : { lineHeader: row.lineHeader }),
    ...(row.pick === undefined ? {} : { pick: row.pick }),
    ...(row.pick === 'cycle' ? { firstLine } : {}),
  };
  if (loopDelay) await row.app.resetLoopDelay();
  const cpu0 = await row.app.cpuMicros();
  const t0 = process.hrtime.bigint();
  const result = await generate(spec);
  const wallMicros = Number(process.hrtime.bigint() - t0) / 1e3;
  const cpu = (await row.app.cpuMicros()) - cpu0;
  const loop = loopDelay ? await row.app.loopDelay() : undefined;
  return {
    ...result,
    serverUsPerReq: cpu / Math.max(1, result.totalRequests),
    serverCores: cpu / wallMicros,
    loopP99Ms: loop?.p99Ms ?? Number.NaN,
  };
}

/**
 * Measures every row: one untimed pass first (the app's JIT, the session caches), then
 * ROUNDS rounds of SLICE seconds each, the order reversed every other round.
 */
export async function measure<K extends string>(
  rows: Record<K, Row>,
  logOrOptions: ((line: string) => void) | MeasureOptions<K> = {},
): Promise<Record<K, RowStats>> {
  const options = typeof logOrOptions === 'function' ? { log: logOrOptions } : logOrOptions;
  const {
    log = () => undefined,
    generate = runLoad,
    rounds: roundCount = ROUNDS,
    slice = SLICE,
    warmupSeconds = 0.2,
    untimedSeconds = 0.5,
    loopDelay = false,
    measured = () => undefined,
  } = options;
  const keys = Object.keys(rows) as K[];
  // Where each cycling row goes on: past every line answered, and past the requests still in
  // flight when its generator stopped (sent, never counted).
  const nextLine = new Map<K, number>();
  const run = async (key: K, seconds: number, warmup: number) => {
    const result = await once(
      rows[key],
      seconds,
      warmup,
      generate,
      loopDelay,
      nextLine.get(key) ?? 0,
    );
    nextLine.set(key, (nextLine.get(key) ?? 0) + result.totalRequests + CONNECTIONS);
    return result;
  };
  for (const key of keys) measured(key, await run(key, untimedSeconds, 0.3), false);
  const rounds = new Map<K, Round[]>(keys.map((k) => [k, []]));
  for (let r = 0; r < roundCount; r++) {
    for (const key of r % 2 === 0 ? keys : [...keys].reverse()) {
      const result = await run(key, slice, warmupSeconds);
      rounds.get(key)?.push(result);
      measured(key, result, true);
      log(`  round ${r + 1}/${roundCount} ${key}: ${Math.round(result.rps)} req/s`);
    }
  }
  const stats = (list: Round[]): RowStats => ({
    rounds: list,
    rps: median(list.map((x) => x.rps)),
    p50Ms: median(list.map((x) => x.p50Ms)),
    p99Ms: median(list.map((x) => x.p99Ms)),
    serverUsPerReq: median(list.map((x) => x.serverUsPerReq)),
    serverCores: median(list.map((x) => x.serverCores)),
    loadCores: median(list.map((x) => x.cpu)),
    loopP99Ms: median(list.map((x) => x.loopP99Ms)),
    failures: list.reduce((n, x) => n + x.non2xx + x.badBody + x.errors, 0),
    firstError: list.find((x) => x.firstError)?.firstError,
  });
  return Object.fromEntries(keys.map((k) => [k, stats(rounds.get(k) ?? [])])) as Record<
    K,
    RowStats
  >;
}

/** Median over the rounds of a per-round comparison: rounds ran side by side in time. */
export function paired(a: RowStats, b: RowStats, fn: (a: Round, b: Round) => number): number {
  return median(a.rounds.map((x, i) => fn(x, b.rounds[i] ?? x)));
}

export const int = (n: number) => Math.round(n).toLocaleString('en-US');
export const ratio = (n: number) => `${n.toFixed(2)}x`;
/** A number to `digits` places, or `-` when there is none (NaN, no rounds). */
export const fixed = (n: number, digits = 2) => (Number.isFinite(n) ? n.toFixed(digits) : '-');
/** What ends a row's req/s cell when any of its requests failed. */
export const failedNote = (row: RowStats) =>
  row.failures ? ` FAILED (${row.failures}: ${row.firstError ?? 'errors'})` : '';

/** Prints rows under a header: the first column left-aligned, the others right-aligned. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  console.log(line(header));
  for (const row of rows) console.log(line(row));
}

/** The 1/5/15-minute load averages: other work on the machine skews every number. */
export function machineLoad(): string {
  return `load average ${loadavg()
    .map((n) => n.toFixed(2))
    .join(' ')} on ${availableParallelism()} cores`;
}
