// What the outside-in benches share: their environment knobs, progress lines and the choice of
// load generator (wrk when it installs, else the node worker).
import { fileURLToPath } from 'node:url';
import { runLoad, type Generator } from './load.js';
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
 * names what falls back in the note.
 */
export function chooseGenerator(
  notes: string[],
  { wrkDetail = '', rows = 'rows' }: { wrkDetail?: string; rows?: string } = {},
): { generate: Generator; generatorLabel: string; usesWrk: boolean } {
  const wrk =
    process.env.BENCH_GENERATOR === 'node'
      ? ({ ok: false, reason: 'BENCH_GENERATOR=node' } as const)
      : ensureWrk((line) => notes.push(line));
  if (wrk.ok) {
    return {
      generate: wrkGenerator({ threads: THREADS, connections: CONNECTIONS }),
      generatorLabel: `${wrk.version} -t${THREADS} -c${CONNECTIONS}${wrkDetail}`,
      usesWrk: true,
    };
  }
  notes.push(`wrk unavailable (${wrk.reason}): ${rows} use the node load worker instead`);
  return {
    generate: runLoad,
    generatorLabel: `node load worker, ${CONNECTIONS} keep-alive connections`,
    usesWrk: false,
  };
}
