// Load from outside: each measurement spawns load-worker.js in its own process, so the client
// never competes with the app under test for one event loop (which pulls every ratio to 1).
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export interface LoadSpec {
  url: string;
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  /** Keep-alive connections kept busy at once (K). */
  connections: number;
  /** Timed seconds (S), after the warm-up. */
  seconds: number;
  /** Untimed seconds first: connections open, the generator's own JIT warms up. */
  warmupSeconds?: number;
  /** A response whose body includes this counts as bad (GraphQL answers errors with a 200). */
  badBodyMarker?: string;
  /** A file of Cookie header values, one a line: each request carries one of them. */
  cookieFile?: string;
  /** The header `cookieFile`'s lines fill instead of Cookie (API keys: `Authorization`). */
  lineHeader?: string;
  /**
   * How a request's line is chosen: uniformly at random (default), each line once, in order
   * (the run then ends when the lines run out, if `seconds` has not passed first), or in
   * order round and round (`cycle`: a line comes back only after all the others).
   */
  pick?: 'random' | 'once' | 'cycle';
  /** `cycle`: the line (0-based, wrapping) to start from, where the last measurement stopped. */
  firstLine?: number;
  /**
   * Open loop: this many requests a second, each sent on its schedule whatever the answers
   * before it; latency counts from the scheduled time, so a stalled app is not hidden.
   */
  rate?: number;
}

export interface LoadResult {
  /** Requests started inside the timed window. */
  requests: number;
  /** Every response the generator read, warm-up included. */
  totalRequests: number;
  seconds: number;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  non2xx: number;
  badBody: number;
  errors: number;
  firstError?: string;
  /** The generator's CPU over the window, in cores: near 1 means it, not the app, was the limit. */
  cpu: number;
}

/** Runs one measurement from its own process: the node worker below, or wrk (wrk.ts). */
export type Generator = (spec: LoadSpec) => Promise<LoadResult>;

const WORKER = fileURLToPath(new URL('./load-worker.js', import.meta.url));

function isLoadResult(value: unknown): value is LoadResult {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { rps?: unknown }).rps === 'number' &&
    typeof (value as { p99Ms?: unknown }).p99Ms === 'number'
  );
}

/** Runs one load generator process to completion and returns what it measured. */
export function runLoad(spec: LoadSpec): Promise<LoadResult> {
  return new Promise<LoadResult>((resolve, reject) => {
    const child = spawn(process.execPath, [WORKER, JSON.stringify(spec)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`load worker exited with ${code}`));
      try {
        const parsed: unknown = JSON.parse(out.trim().split('\n').at(-1) ?? '');
        if (!isLoadResult(parsed)) throw new Error(`unexpected output: ${out}`);
        resolve(parsed);
      } catch (error) {
        reject(error instanceof Error ? error : new Error(String(error)));
      }
    });
  });
}
