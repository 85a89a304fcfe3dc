// A burst of 100 concurrent requests carrying one expired cookie: latency p50/p99, upstream
// refreshes and sessions lost; one instance (in-process single-flight) vs two instances sharing
// Redis, healthy, behind a link adding 300 ms each way, and with Redis cut off mid-burst.
// Run: npm run bench. Starts a redis-server of its own on a free port; each instance reaches
// it through a TCP proxy the bench slows down or cuts.
import 'reflect-metadata';
import { Controller, Get, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { spawn } from 'node:child_process';
import http from 'node:http';
import { createServer, type AddressInfo } from 'node:net';
import { Redis } from 'ioredis';
import { AuthKitModule, RequireFlag, type Store } from '../lib/index.js';
import { RedisStore } from '../lib/redis/index.js';
import { WorkOSEmulator } from '../lib/testing/index.js';
import { TcpProxy } from '../test/e2e/support/tcp-proxy.js';

const PASSWORD = 'bench-cookie-password-0123456789abcdef';
const BURSTS = Number(process.env.BENCH_BURSTS ?? 20);
const SIZE = 100;

const port = await new Promise<number>((resolve) => {
  const server = createServer().listen(0, '127.0.0.1', () => {
    const { port: free } = server.address() as AddressInfo;
    server.close(() => resolve(free));
  });
});
const redis = spawn(
  'redis-server',
  ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
  { stdio: ['ignore', 'pipe', 'inherit'] },
);
await new Promise<void>((resolve) =>
  redis.stdout.on('data', (chunk: Buffer) => {
    if (chunk.toString().includes('Ready to accept connections')) resolve();
  }),
);

const emulator = await WorkOSEmulator.start({
  users: [{ id: 'user_bench', email: 'bench@example.test' }],
  organizations: [{ id: 'org_bench', name: 'Bench' }],
  memberships: [{ userId: 'user_bench', organizationId: 'org_bench' }],
  flags: [{ slug: 'beta', enabled: true, orgRule: 'all' }],
});

@Controller()
class BenchController {
  @Get('beta')
  @RequireFlag('beta')
  beta() {
    return 'ok';
  }
}

async function instance(store?: Store): Promise<{ url: string; close(): Promise<void> }> {
  @Module({
    imports: [
      AuthKitModule.forRoot({ ...emulator.moduleOptions(), cookiePassword: PASSWORD, store }),
    ],
    controllers: [BenchController],
  })
  class AppModule {}
  const app = await NestFactory.create(AppModule, { logger: false });
  await app.listen(0, '127.0.0.1');
  const { port: appPort } = app.getHttpServer().address() as AddressInfo;
  return { url: `http://127.0.0.1:${appPort}`, close: () => app.close() };
}

const agent = new http.Agent({ keepAlive: true, maxSockets: SIZE });
interface Reply {
  ms: number;
  status: number;
  /** The session cookie this answer set ('' when it cleared it). */
  setCookie?: string;
  retryAfter?: number;
}
function get(url: string, cookie: string): Promise<Reply> {
  const started = process.hrtime.bigint();
  return new Promise((resolve, reject) => {
    http
      .get(`${url}/beta`, { agent, headers: { cookie: `wos-session=${cookie}` } }, (res) => {
        res.resume();
        const line = (res.headers['set-cookie'] ?? []).find((c) => c.startsWith('wos-session='));
        res.on('end', () =>
          resolve({
            ms: Number(process.hrtime.bigint() - started) / 1e6,
            status: res.statusCode ?? 0,
            setCookie: line?.slice('wos-session='.length).split(';')[0],
            retryAfter: Number(res.headers['retry-after'] ?? 0),
          }),
        );
      })
      .on('error', reject);
  });
}

/** Does the cookie the browser ended with still open a session (honouring Retry-After)? */
async function signedIn(url: string, jar: string): Promise<boolean> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const reply = await get(url, jar);
    if (reply.status === 200) return true;
    if (reply.status !== 503) return false;
    await new Promise((resolve) => setTimeout(resolve, (reply.retryAfter || 1) * 1000));
  }
  return false;
}

interface Fault {
  /** Called with the burst under way (after `before`); resolves once the fault is in place. */
  during?: () => Promise<void>;
  before?: () => void;
  heal?: () => Promise<void>;
}

async function run(urls: string[], fault: Fault = {}) {
  const latencies: number[] = [];
  let refreshes = 0;
  let failures = 0;
  let lost = 0;
  for (let b = 0; b < BURSTS; b++) {
    const session = await emulator.createSession({
      userId: 'user_bench',
      organizationId: 'org_bench',
      accessTokenExpiresIn: -60,
    });
    const cookie = emulator.sealSession(session, PASSWORD);
    const before = emulator.calls.refresh;
    fault.before?.();
    // The browser's cookie jar: Set-Cookie applied in the order answers arrive.
    let jar = cookie;
    let cleared = false;
    const burst = Promise.all(
      Array.from({ length: SIZE }, (_, i) =>
        get(urls[i % urls.length]!, cookie).then((reply) => {
          if (reply.setCookie === '') cleared = true;
          else if (reply.setCookie !== undefined) jar = reply.setCookie;
          return reply;
        }),
      ),
    );
    await fault.during?.();
    const replies = await burst;
    refreshes += emulator.calls.refresh - before;
    for (const reply of replies) {
      latencies.push(reply.ms);
      if (reply.status !== 200) failures++;
    }
    await fault.heal?.();
    if (cleared || !(await signedIn(urls[0]!, jar))) lost++;
  }
  latencies.sort((a, b) => a - b);
  const pct = (p: number) =>
    latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))]!;
  return { p50: pct(0.5), p99: pct(0.99), refreshes, failures, lost };
}

const single = await instance();
const proxies = [await TcpProxy.start(port), await TcpProxy.start(port)];
const clients = proxies.map((proxy) => {
  const client = new Redis({
    port: proxy.port,
    host: '127.0.0.1',
    maxRetriesPerRequest: 1,
    enableOfflineQueue: false,
    retryStrategy: () => 50,
  });
  client.on('error', () => undefined);
  return client;
});
const stores = await Promise.all(clients.map((client) => RedisStore.create({ client })));
const a = await instance(stores[0]);
const b = await instance(stores[1]);
const ready = (client: Redis) =>
  client.status === 'ready'
    ? Promise.resolve()
    : new Promise<void>((resolve) => client.once('ready', () => resolve()));
const heal = async () => {
  for (const proxy of proxies) {
    proxy.delayMs = 0;
    proxy.restore();
  }
  await Promise.all(clients.map(ready));
};
// Warm-up: JWKS fetch, connections.
await run([single.url]);
await run([a.url, b.url]);

const one = await run([single.url]);
const two = await run([a.url, b.url]);
const slow = await run([a.url, b.url], {
  before: () => proxies.forEach((proxy) => (proxy.delayMs = 300)),
  heal,
});
const killed = await run([a.url, b.url], {
  // The exchange takes 300 ms; the link dies once it is under way and the other instance polls.
  before: () => emulator.fault('authenticate', { delayMs: 300, times: 1 }),
  during: async () => {
    const started = emulator.calls.refresh;
    while (emulator.calls.refresh === started) await new Promise((r) => setTimeout(r, 5));
    await Promise.race(proxies.map((proxy) => proxy.afterCommands(2)));
    for (const proxy of proxies) proxy.cut();
  },
  heal,
});
console.log(
  `\nnode ${process.version}, ${BURSTS} bursts of ${SIZE} concurrent requests, one expired cookie each\n`,
);
console.log(
  'expired-cookie burst                        p50 ms   p99 ms   refreshes/burst  non-200  sessions lost',
);
const row = (label: string, r: Awaited<ReturnType<typeof run>>) =>
  console.log(
    `  ${label.padEnd(40)} ${r.p50.toFixed(1).padStart(6)}   ${r.p99.toFixed(1).padStart(6)}` +
      `   ${(r.refreshes / BURSTS).toFixed(2).padStart(15)}  ${String(r.failures).padStart(7)}` +
      `  ${String(r.lost).padStart(13)}`,
  );
row('one instance (in-process single-flight)', one);
row('two instances sharing Redis', two);
row('two instances, Redis slow (300 ms)', slow);
row('two instances, Redis killed mid-burst', killed);
console.log(`p99 ratio two/one: ${(two.p99 / one.p99).toFixed(2)}x`);

agent.destroy();
await single.close();
await a.close();
await b.close();
for (const store of stores) await store.close();
for (const client of clients) client.disconnect();
for (const proxy of proxies) await proxy.close();
await emulator.close();
redis.kill('SIGKILL');
