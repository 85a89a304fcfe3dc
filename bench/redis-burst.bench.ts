// A burst of 100 concurrent requests carrying one expired cookie: latency p50/p99 and upstream
// refreshes, one instance (in-process single-flight) vs two instances sharing Redis.
// Run: npm run bench. Starts a redis-server of its own on a free port.
import 'reflect-metadata';
import { Controller, Get, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { spawn } from 'node:child_process';
import http from 'node:http';
import { createServer, type AddressInfo } from 'node:net';
import { AuthKitModule, RequireFlag, type Store } from '../lib/index.js';
import { RedisStore } from '../lib/redis/index.js';
import { WorkOSEmulator } from '../lib/testing/index.js';

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
    imports: [AuthKitModule.forRoot({ ...emulator.connection(), cookiePassword: PASSWORD, store })],
    controllers: [BenchController],
  })
  class AppModule {}
  const app = await NestFactory.create(AppModule, { logger: false });
  await app.listen(0, '127.0.0.1');
  const { port: appPort } = app.getHttpServer().address() as AddressInfo;
  return { url: `http://127.0.0.1:${appPort}`, close: () => app.close() };
}

const agent = new http.Agent({ keepAlive: true, maxSockets: SIZE });
function get(url: string, cookie: string): Promise<{ ms: number; status: number }> {
  const started = process.hrtime.bigint();
  return new Promise((resolve, reject) => {
    http
      .get(`${url}/beta`, { agent, headers: { cookie: `wos-session=${cookie}` } }, (res) => {
        res.resume();
        res.on('end', () =>
          resolve({
            ms: Number(process.hrtime.bigint() - started) / 1e6,
            status: res.statusCode ?? 0,
          }),
        );
      })
      .on('error', reject);
  });
}

async function run(urls: string[]) {
  const latencies: number[] = [];
  let refreshes = 0;
  let failures = 0;
  for (let b = 0; b < BURSTS; b++) {
    const session = await emulator.createSession({
      userId: 'user_bench',
      organizationId: 'org_bench',
      accessTokenExpiresIn: -60,
    });
    const cookie = emulator.sealSession(session, PASSWORD);
    const before = emulator.calls.refresh;
    const replies = await Promise.all(
      Array.from({ length: SIZE }, (_, i) => get(urls[i % urls.length]!, cookie)),
    );
    refreshes += emulator.calls.refresh - before;
    for (const reply of replies) {
      latencies.push(reply.ms);
      if (reply.status !== 200) failures++;
    }
  }
  latencies.sort((a, b) => a - b);
  const pct = (p: number) =>
    latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))]!;
  return { p50: pct(0.5), p99: pct(0.99), refreshes, failures };
}

const single = await instance();
const stores = [
  await RedisStore.create({ url: `redis://127.0.0.1:${port}` }),
  await RedisStore.create({ url: `redis://127.0.0.1:${port}` }),
];
const a = await instance(stores[0]);
const b = await instance(stores[1]);
// Warm-up: JWKS fetch, connections.
await run([single.url]);
await run([a.url, b.url]);

const one = await run([single.url]);
const two = await run([a.url, b.url]);
console.log(
  `\nnode ${process.version}, ${BURSTS} bursts of ${SIZE} concurrent requests, one expired cookie each\n`,
);
console.log(
  'expired-cookie burst                        p50 ms   p99 ms   refreshes/burst  non-200',
);
const row = (label: string, r: Awaited<ReturnType<typeof run>>) =>
  console.log(
    `  ${label.padEnd(40)} ${r.p50.toFixed(1).padStart(6)}   ${r.p99.toFixed(1).padStart(6)}` +
      `   ${(r.refreshes / BURSTS).toFixed(2).padStart(15)}  ${String(r.failures).padStart(7)}`,
  );
row('one instance (in-process single-flight)', one);
row('two instances sharing Redis', two);
console.log(`p99 ratio two/one: ${(two.p99 / one.p99).toFixed(2)}x`);

agent.destroy();
await single.close();
await a.close();
await b.close();
for (const store of stores) await store.close();
await emulator.close();
redis.kill('SIGKILL');
