// The load generator's own process (spawned by load.ts): keeps K keep-alive connections busy
// against one URL, then prints one JSON line (LoadResult) on stdout. Imports node:http only,
// so it starts fast and never shares an event loop or a JIT with the app it measures.
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
// No Nagle: a request's last segment must not wait for the server's delayed ACK.
const agent = new http.Agent({ keepAlive: true, maxSockets: spec.connections, noDelay: true });
const options: http.RequestOptions = {
  host: url.hostname,
  port: url.port,
  path: url.pathname + url.search,
  method: spec.method ?? 'GET',
  headers,
  agent,
};

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

/** One request; resolves when its response has been read to the end. */
function one(): Promise<void> {
  return new Promise<void>((resolve) => {
    const counted = timing;
    const start = process.hrtime.bigint();
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
          record(Number(process.hrtime.bigint() - start) / 1000);
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

async function connection(until: () => boolean): Promise<void> {
  while (!until()) await one();
}

const warmupMs = Math.round((spec.warmupSeconds ?? 0.3) * 1000);
const timedMs = Math.round(spec.seconds * 1000);
let stopped = false;
const loops = Array.from({ length: spec.connections }, () => connection(() => stopped));

await new Promise((resolve) => setTimeout(resolve, warmupMs));
// Requests that start inside the window count: in steady state the K in flight at each edge
// balance out, and the slow tail of the last ones is still recorded.
timing = true;
const cpu0 = process.cpuUsage();
const t0 = process.hrtime.bigint();
await new Promise((resolve) => setTimeout(resolve, timedMs));
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
