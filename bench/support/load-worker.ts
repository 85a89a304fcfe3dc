// The load generator's own process (spawned by load.ts): keeps K keep-alive connections busy
// against one URL (closed loop), or sends a fixed number of requests a second (open loop, `rate`),
// then prints one JSON line (LoadResult) on stdout. Imports node:http only, so it starts fast
// and never shares an event loop or a JIT with the app it measures.
import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { LoadResult, LoadSpec } from './load.js';

function parseSpec(raw: string | undefined): LoadSpec {
  const value: unknown = JSON.parse(raw ?? '');
  if (
    typeof value !== 'object' ||
    value === null ||
    typeof (value as { url?: unknown }).url !== 'string'
  ) {
    throw new Error('load-worker: argv[2] must be a LoadSpec JSON object');
  }
  return value as LoadSpec;
}

const spec = parseSpec(process.argv[2]);
const url = new URL(spec.url);
const body = spec.body === undefined ? undefined : Buffer.from(spec.body);
const headers: Record<string, string> = { ...spec.headers };
if (body) headers['content-length'] = String(body.length);
const cookies = spec.cookieFile
  ? readFileSync(spec.cookieFile, 'utf8').split('\n').filter(Boolean)
  : undefined;
const lineHeader = (spec.lineHeader ?? 'cookie').toLowerCase();
// No Nagle: a request's last segment must not wait for the server's delayed ACK.
const agent = new http.Agent({ keepAlive: true, maxSockets: spec.connections, noDelay: true });
const base: http.RequestOptions = {
  host: url.hostname,
  port: url.port,
  path: url.pathname + url.search,
  method: spec.method ?? 'GET',
  headers,
  agent,
};

let nextCookie = spec.pick === 'cycle' ? (spec.firstLine ?? 0) : 0;
/** The next request's options; undefined once `pick: 'once'` has used every line. */
function nextOptions(): http.RequestOptions | undefined {
  if (!cookies) return base;
  let line: string | undefined;
  if (spec.pick === 'once') line = cookies[nextCookie++];
  else if (spec.pick === 'cycle') line = cookies[nextCookie++ % cookies.length];
  else line = cookies[Math.floor(Math.random() * cookies.length)];
  return line === undefined ? undefined : { ...base, headers: { ...headers, [lineHeader]: line } };
}

// Latencies in µs of requests that started inside the timed window (grown as needed).
let latencies = new Float64Array(1 << 16);
let count = 0;
/** Every response, warm-up included: the app's CPU is divided by this. */
let total = 0;
let non2xx = 0;
let badBody = 0;
let errors = 0;
let firstError: string | undefined;
let timing = false;

const record = (micros: number) => {
  if (count === latencies.length) {
    const bigger = new Float64Array(latencies.length * 2);
    bigger.set(latencies);
    latencies = bigger;
  }
  latencies[count++] = micros;
};

/**
 * One request; resolves when its response has been read to the end. Latency counts from
 * `since` (hrtime ns): now for a closed loop, the scheduled time for an open one.
 */
function one(options: http.RequestOptions, since = process.hrtime.bigint()): Promise<void> {
  return new Promise<void>((resolve) => {
    const counted = timing;
    const req = http.request(options, (res) => {
      const status = res.statusCode ?? 0;
      // Reading the body only when asked to check it: the generator must stay cheap.
      const marker = spec.badBodyMarker;
      let text = '';
      if (marker === undefined) res.resume();
      else res.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
      res.on('end', () => {
        total++;
        if (counted) {
          record(Number(process.hrtime.bigint() - since) / 1000);
          if (status < 200 || status > 299) non2xx++;
          if (marker !== undefined && text.includes(marker)) badBody++;
        }
        resolve();
      });
    });
    req.on('error', (error: Error) => {
      if (counted) errors++;
      firstError ??= error.message;
      resolve();
    });
    req.end(body);
  });
}

let stopped = false;
let exhausted: () => void = () => undefined;
const ranOut = new Promise<void>((resolve) => (exhausted = resolve));

async function connection(): Promise<void> {
  while (!stopped) {
    const options = nextOptions();
    if (!options) return exhausted();
    await one(options);
  }
}

/** Sends `rate` requests a second on schedule until stopped; resolves when all have answered. */
async function openLoop(rate: number): Promise<void> {
  const inFlight = new Set<Promise<void>>();
  const start = process.hrtime.bigint();
  const gapNs = 1e9 / rate;
  let sent = 0;
  while (!stopped) {
    const now = process.hrtime.bigint();
    // Every request due by now goes out now, with its own scheduled time as its start.
    while (!stopped && Number(now - start) >= sent * gapNs) {
      const options = nextOptions();
      if (!options) {
        exhausted();
        break;
      }
      const due = start + BigInt(Math.round(sent * gapNs));
      const request = one(options, due).finally(() => inFlight.delete(request));
      inFlight.add(request);
      sent++;
    }
    const wait = (sent * gapNs - Number(process.hrtime.bigint() - start)) / 1e6;
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, Math.floor(wait))));
  }
  await Promise.all(inFlight);
}

const warmupMs = Math.round((spec.warmupSeconds ?? 0.3) * 1000);
const timedMs = Math.round(spec.seconds * 1000);
// Without a warm-up the very first requests count: they start as the loops are created.
if (warmupMs === 0) timing = true;
const loops = spec.rate
  ? [openLoop(spec.rate)]
  : Array.from({ length: spec.connections }, () => connection());

if (warmupMs > 0) await new Promise((resolve) => setTimeout(resolve, warmupMs));
// Requests that start inside the window count: in steady state the K in flight at each edge
// balance out, and the slow tail of the last ones is still recorded.
timing = true;
const cpu0 = process.cpuUsage();
const t0 = process.hrtime.bigint();
let timer: NodeJS.Timeout | undefined;
await Promise.race([new Promise((resolve) => (timer = setTimeout(resolve, timedMs))), ranOut]);
clearTimeout(timer);
timing = false;
const t1 = process.hrtime.bigint();
stopped = true;
await Promise.all(loops);
const cpu = process.cpuUsage(cpu0);
agent.destroy();

const elapsed = Number(t1 - t0) / 1e9;
const sorted = latencies.subarray(0, count).sort();
const quantile = (q: number) =>
  count === 0 ? 0 : (sorted[Math.min(count - 1, Math.floor(q * count))] ?? 0) / 1000;
const result: LoadResult = {
  requests: count,
  totalRequests: total,
  seconds: elapsed,
  rps: count / elapsed,
  p50Ms: quantile(0.5),
  p99Ms: quantile(0.99),
  non2xx,
  badBody,
  errors,
  ...(firstError === undefined ? {} : { firstError }),
  cpu: (cpu.user + cpu.system) / 1e6 / elapsed,
};
process.stdout.write(`${JSON.stringify(result)}\n`);
