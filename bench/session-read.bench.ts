// Session read cost, side by side from one run: our path vs the SDK's path vs no auth.
// Run: npm run bench. Loopback only; every loop is bounded (BENCH_SECONDS, default 2 s each).
import 'reflect-metadata';
import {
  Controller,
  ForbiddenException,
  Get,
  Injectable,
  Module,
  UseGuards,
  type CanActivate,
  type ExecutionContext,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { WorkOS } from '@workos-inc/node';
import type { AddressInfo } from 'node:net';
import { AuthKitModule, RequireFlag } from '../lib/index.js';
import { httpCarrier } from '../lib/context/carrier.js';
import { SessionResolver } from '../lib/session/session.resolver.js';
import { WorkOSEmulator } from '../lib/testing/index.js';
import { runLoad } from './support/load.js';

const PASSWORD = 'bench-cookie-password-0123456789abcdef';
const SECONDS = Number(process.env.BENCH_SECONDS ?? 2);
const SDK_COOKIE = 'sdk-session';

const emulator = await WorkOSEmulator.start({
  users: [{ id: 'user_bench', email: 'bench@example.test' }],
  organizations: [{ id: 'org_bench', name: 'Bench' }],
  memberships: [{ userId: 'user_bench', organizationId: 'org_bench', role: 'member' }],
  flags: [{ slug: 'beta', enabled: true, orgRule: 'all' }],
});
const session = await emulator.createSession({ userId: 'user_bench', organizationId: 'org_bench' });
const cookie = emulator.sealSession(session, PASSWORD);
const workos = new WorkOS(emulator.apiKey, { ...emulator.connection(), maxRetries: 0 });

/** The SDK's documented way to read a session, as a guard would use it. */
async function sdkRead(sealed: string): Promise<string[]> {
  const result = await workos.userManagement
    .loadSealedSession({ sessionData: sealed, cookiePassword: PASSWORD })
    .authenticate();
  if (!result.authenticated) throw new ForbiddenException();
  return result.featureFlags ?? [];
}

@Injectable()
class SdkFlagGuard implements CanActivate {
  async canActivate(context: ExecutionContext): Promise<boolean> {
    const req = context.switchToHttp().getRequest<{ headers: { cookie?: string } }>();
    const sealed = /(?:^|;\s*)sdk-session=([^;]+)/.exec(req.headers.cookie ?? '')?.[1];
    if (!sealed || !(await sdkRead(sealed)).includes('beta')) throw new ForbiddenException();
    return true;
  }
}

@Controller()
class BenchController {
  @Get('none')
  none() {
    return 'ok';
  }

  @Get('ours')
  @RequireFlag('beta')
  ours() {
    return 'ok';
  }

  @Get('sdk')
  @UseGuards(SdkFlagGuard)
  sdk() {
    return 'ok';
  }
}

@Module({
  imports: [AuthKitModule.forRoot({ ...emulator.connection(), cookiePassword: PASSWORD })],
  controllers: [BenchController],
  providers: [SdkFlagGuard],
})
class BenchModule {}

/** Sequential ops/s of an async function, after a warm-up. */
async function opsPerSecond(fn: () => Promise<unknown>): Promise<number> {
  for (let i = 0; i < 300; i++) await fn();
  let n = 0;
  const start = process.hrtime.bigint();
  const until = start + BigInt(Math.round(SECONDS * 1e9));
  while (process.hrtime.bigint() < until) {
    for (let i = 0; i < 50; i++) await fn();
    n += 50;
  }
  return n / (Number(process.hrtime.bigint() - start) / 1e9);
}

/**
 * Requests/s over 16 keep-alive connections, from a load generator in its own process: a
 * client in this event loop would compete with the app and pull every ratio toward 1.
 */
async function requestsPerSecond(
  port: number,
  path: string,
  cookieHeader?: string,
): Promise<number> {
  const result = await runLoad({
    url: `http://127.0.0.1:${port}${path}`,
    headers: cookieHeader ? { cookie: cookieHeader } : {},
    connections: 16,
    seconds: SECONDS,
  });
  const failed = result.non2xx + result.errors;
  if (failed) throw new Error(`${path}: ${failed} failed (${result.firstError ?? 'non-2xx'})`);
  return result.rps;
}

const app = await NestFactory.create(BenchModule, { logger: ['error'] });
await app.listen(0, '127.0.0.1');
const port = (app.getHttpServer().address() as AddressInfo).port;
const resolver = app.get(SessionResolver);
const fakeReq = () => ({ headers: { cookie: `wos-session=${cookie}` } });

const sdk = await opsPerSecond(() => sdkRead(cookie));
const oursCold = await opsPerSecond(() => resolver.openCookie(fakeReq()));
const oursWarm = await opsPerSecond(() => resolver.resolve(httpCarrier(fakeReq(), {})));
// One untimed round first, so JIT warm-up does not favour whichever row runs last.
const httpRows = async () => ({
  none: await requestsPerSecond(port, '/none'),
  ours: await requestsPerSecond(port, '/ours', `wos-session=${cookie}`),
  sdk: await requestsPerSecond(port, '/sdk', `${SDK_COOKIE}=${cookie}`),
});
await httpRows();
const { none: httpNone, ours: httpOurs, sdk: httpSdk } = await httpRows();

const fmt = (n: number) => Math.round(n).toLocaleString('en-US').padStart(9);
const ratio = (a: number, b: number) => `${(a / b).toFixed(1)}x`;
console.log(`node ${process.version}, ${SECONDS}s per row, same cookie for every read\n`);
console.log('session read (one process, sequential)            ops/s   vs SDK');
console.log(`  SDK loadSealedSession().authenticate()      ${fmt(sdk)}     1.0x`);
console.log(
  `  ours, first sight (unseal + verify)         ${fmt(oursCold)}  ${ratio(oursCold, sdk).padStart(7)}`,
);
console.log(
  `  ours, repeat request (verified cache)       ${fmt(oursWarm)}  ${ratio(oursWarm, sdk).padStart(7)}`,
);
console.log('\nHTTP, flag-gated GET, 16 keep-alive connections   req/s   vs no auth');
console.log('(app in this process, load generator in its own)');
console.log(`  no auth                                     ${fmt(httpNone)}     1.0x`);
console.log(
  `  @RequireFlag (ours)                         ${fmt(httpOurs)}  ${ratio(httpOurs, httpNone).padStart(7)}`,
);
console.log(
  `  guard calling the SDK                       ${fmt(httpSdk)}  ${ratio(httpSdk, httpNone).padStart(7)}`,
);
console.log(`\nours vs SDK over HTTP: ${ratio(httpOurs, httpSdk)}`);

await app.close();
await emulator.close();
