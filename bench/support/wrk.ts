// wrk as the closed-loop load generator: a C client costs the app's machine less per request
// than a node one, so more of the 2 cores go to the app. Installed from Debian when missing (as
// root); otherwise the caller falls back to the node worker (load.ts) and says so.
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Generator, LoadResult, LoadSpec } from './load.js';

export interface WrkSettings {
  threads: number;
  connections: number;
}

export type WrkAvailability = { ok: true; version: string } | { ok: false; reason: string };

/** wrk's script lives beside this file's TypeScript source (tsc does not copy it). */
const SCRIPT = fileURLToPath(new URL('../../../bench/support/wrk-pool.lua', import.meta.url));

function version(): string | undefined {
  // `wrk -v` prints its version line, then its usage, and exits 1.
  const probe = spawnSync('wrk', ['-v'], { encoding: 'utf8' });
  if (probe.error) return undefined;
  return /^wrk \S+/.exec(probe.stdout)?.[0];
}

function aptGet(args: string[]): { ok: boolean; out: string } {
  const run = spawnSync('apt-get', args, {
    encoding: 'utf8',
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
  return { ok: run.status === 0, out: `${run.stdout ?? ''}${run.stderr ?? ''}`.trim() };
}

/** wrk's version line; installs the Debian package first when it is missing and we are root. */
export function ensureWrk(log: (line: string) => void): WrkAvailability {
  const found = version();
  if (found) return { ok: true, version: found };
  if (process.getuid?.() !== 0) return { ok: false, reason: 'wrk not installed, not root' };
  log('wrk not found: apt-get install -y -q wrk');
  let install = aptGet(['install', '-y', '-q', 'wrk']);
  if (!install.ok) {
    // A machine that never ran apt-get update has no package lists yet.
    aptGet(['update', '-q']);
    install = aptGet(['install', '-y', '-q', 'wrk']);
  }
  const installed = version();
  if (installed) return { ok: true, version: installed };
  return { ok: false, reason: `apt-get install wrk failed: ${install.out.slice(-300)}` };
}

interface WrkLine {
  requests: number;
  durationUs: number;
  p50Us: number;
  p99Us: number;
  non2xx: number;
  socketErrors: number;
}

function isWrkLine(value: unknown): value is WrkLine {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { requests?: unknown }).requests === 'number' &&
    typeof (value as { durationUs?: unknown }).durationUs === 'number'
  );
}

/** bash's `times`, second line: the children's (wrk's) user and system time, in seconds. */
function childCpuSeconds(out: string): number | undefined {
  const lines = out.trim().split('\n');
  const match = /^(\d+)m([\d.]+)s (\d+)m([\d.]+)s$/.exec(lines.at(-1)?.trim() ?? '');
  if (!match) return undefined;
  const [, um = '0', us = '0', sm = '0', ss = '0'] = match;
  return Number(um) * 60 + Number(us) + Number(sm) * 60 + Number(ss);
}

/**
 * A generator running wrk once per measurement: `-d` whole seconds (wrk takes no fractions, and
 * has no warm-up: the caller's untimed pass warms the app), the cookie file (if any), its header
 * and its pick (random or cycle) handed to the Lua script. Open-loop (`rate`), bodies, other methods and `pick: 'once'` are the node
 * worker's: wrk cannot do them here.
 */
export function wrkGenerator({ threads, connections }: WrkSettings): Generator {
  return (spec: LoadSpec) => {
    if (spec.rate || spec.body !== undefined || (spec.method ?? 'GET') !== 'GET') {
      return Promise.reject(new Error('wrk generator: GET closed loop only'));
    }
    if (spec.pick === 'once') return Promise.reject(new Error('wrk generator: no pick once'));
    const args = [
      `-t${threads}`,
      `-c${connections}`,
      `-d${Math.max(1, Math.round(spec.seconds))}s`,
      '-s',
      SCRIPT,
      ...Object.entries(spec.headers ?? {}).flatMap(([name, value]) => ['-H', `${name}: ${value}`]),
      spec.url,
      '--',
      spec.cookieFile ?? '',
      spec.lineHeader ?? 'Cookie',
      spec.pick ?? 'random',
      // Cycling threads split the lines between them: the script needs to know how many.
      String(threads),
      String(spec.firstLine ?? 0),
    ];
    return new Promise<LoadResult>((resolve, reject) => {
      // `times` after wrk: its CPU, for free; wrk's own exit status is kept.
      const child = spawn('bash', ['-c', 'wrk "$@"; s=$?; times; exit $s', 'wrk', ...args], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      let out = '';
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
      child.on('error', reject);
      child.on('close', (code) => {
        if (code !== 0) return reject(new Error(`wrk exited with ${code}: ${out.slice(-500)}`));
        const line = out.split('\n').find((l) => l.startsWith('{'));
        let parsed: unknown;
        try {
          parsed = JSON.parse(line ?? '');
        } catch {
          return reject(new Error(`wrk printed no result line: ${out.slice(-500)}`));
        }
        if (!isWrkLine(parsed)) return reject(new Error(`unexpected wrk line: ${line}`));
        const seconds = parsed.durationUs / 1e6;
        const cpu = childCpuSeconds(out);
        resolve({
          requests: parsed.requests,
          totalRequests: parsed.requests,
          seconds,
          rps: parsed.requests / seconds,
          p50Ms: parsed.p50Us / 1000,
          p99Ms: parsed.p99Us / 1000,
          non2xx: parsed.non2xx,
          badBody: 0,
          errors: parsed.socketErrors,
          ...(parsed.non2xx ? { firstError: `${parsed.non2xx} non-2xx answers` } : {}),
          cpu: cpu === undefined ? Number.NaN : cpu / seconds,
        });
      });
    });
  };
}
