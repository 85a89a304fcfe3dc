// What the outside-in benches share: their environment knobs, progress lines and the choice of
// load generator (wrk when it installs, else the node worker).
import { availableParallelism, cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { runLoad, type Generator } from './load.js';
import type { MeasureOptions } from './rows.js';
import { ensureWrk, wrkGenerator } from './wrk.js';

/** A numeric BENCH_* setting, or its default. */
export const env = (name: string, fallback: number) => Number(process.env[name] ?? fallback);

/** The lib under test: BENCH_LIB, or today's build. */
export const NEW_LIB =
  process.env.BENCH_LIB ?? fileURLToPath(new URL('../../lib/index.js', import.meta.url));
export const ROUNDS = Math.max(1, env('BENCH_ROUNDS', 5));
export const SLICE = Math.max(1, Math.round(env('BENCH_SLICE_SECONDS', 2)));
export const CONNECTIONS = env('BENCH_CONNECTIONS', 16);
export const THREADS = env('BENCH_THREADS', 1);

/** A platform list setting (`express,fastify` by default). */
export const platformsOf = (value: string | undefined) =>
  (value ?? 'express,fastify')
    .split(',')
    .filter((p): p is 'express' | 'fastify' => p === 'express' || p === 'fastify');

/** A platform's name as the reports print it. */
export const platformName = (platform: 'express' | 'fastify') =>
  platform === 'express' ? 'Express' : 'Fastify';

/**
 * A bench report's first line: the machine and its load before and now (other work on it skews
 * every number), the generator, the rounds, how long the run took; `extra` before that.
 *
 * @example
 * ```ts
 * console.log(runHeading('access', { started, loadBefore, generatorLabel }));
 * ```
 */
export function runHeading(
  name: string,
  {
    started,
    loadBefore,
    generatorLabel,
    extra = '',
  }: { started: bigint; loadBefore: number[]; generatorLabel: string; extra?: string },
): string {
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const load = (values: number[]) => values.map((n) => n.toFixed(2)).join(' ');
  return (
    `${name} bench: node ${process.version}, ${cpus()[0]?.model ?? 'unknown CPU'}, ` +
    `${availableParallelism()} cores, load average ${load(loadBefore)} before, ` +
    `${load(loadavg())} after; generator ${generatorLabel}; ${ROUNDS} interleaved rounds x ` +
    `${SLICE} s per row (after a 1 s untimed pass); ${extra}ran in ${seconds.toFixed(0)} s`
  );
}

/** Progress on stderr with BENCH_VERBOSE=1, seconds since `started`. */
export const progressSince = (started: bigint) =>
  process.env.BENCH_VERBOSE === '1'
    ? (line: string) =>
        process.stderr.write(
          `${(Number(process.hrtime.bigint() - started) / 1e9).toFixed(0).padStart(4)} s ${line}\n`,
        )
    : () => undefined;

/**
 * wrk when it is (or can be) installed, else the node load worker; BENCH_GENERATOR=node forces
 * the worker (to compare the two). Notes go to `notes`; `wrkDetail` ends wrk's label, `rows`
 * names what falls back in the note. `measuring`: how the closed-loop rows run with it (the
 * shared rounds and slices, a 1 s untimed pass; wrk has no warm-up of its own).
 */
export function chooseGenerator(
  notes: string[],
  { wrkDetail = '', rows = 'rows' }: { wrkDetail?: string; rows?: string } = {},
): { generatorLabel: string; measuring: MeasureOptions } {
  const measuring = (generate: Generator, warmupSeconds: number): MeasureOptions => ({
    generate,
    rounds: ROUNDS,
    slice: SLICE,
    warmupSeconds,
    untimedSeconds: 1,
  });
  const wrk =
    process.env.BENCH_GENERATOR === 'node'
      ? ({ ok: false, reason: 'BENCH_GENERATOR=node' } as const)
      : ensureWrk((line) => notes.push(line));
  if (wrk.ok) {
    return {
      generatorLabel: `${wrk.version} -t${THREADS} -c${CONNECTIONS}${wrkDetail}`,
      measuring: measuring(wrkGenerator({ threads: THREADS, connections: CONNECTIONS }), 0),
    };
  }
  notes.push(`wrk unavailable (${wrk.reason}): ${rows} use the node load worker instead`);
  return {
    generatorLabel: `node load worker, ${CONNECTIONS} keep-alive connections`,
    measuring: measuring(runLoad, 0.2),
  };
}
