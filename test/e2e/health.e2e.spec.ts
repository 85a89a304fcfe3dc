/*
 * AuthKitHealthIndicator (nestjs-authkit/terminus) in a real Nest app with TerminusModule and a
 * @HealthCheck() controller, probed over HTTP against the WorkOS emulator: the JWKS endpoint
 * failing with and without a held key set, a Redis of the test's own stopped and restarted,
 * live flags going stale, and how often probes reach the JWKS endpoint.
 */
import { jest } from '@jest/globals';
import { Controller, Get, type INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { HealthCheck, HealthCheckService, TerminusModule } from '@nestjs/terminus';
import type { Redis } from 'ioredis';
import type { Server } from 'node:http';
import request from 'supertest';
import { AuthKitModule, type AuthKitModuleOptions } from '../../lib/index.js';
import { RedisStore } from '../../lib/redis/index.js';
import { AuthKitHealthIndicator } from '../../lib/terminus/index.js';
import type { WorkOSEmulator } from '../../lib/testing/index.js';
import { CapturingLogger, COOKIE_PASSWORD } from './support/app.fixture.js';
import { OwnRedis, ready, storeClient } from './support/own-redis.js';
import { startSeededEmulator } from './support/seed.js';

@Controller('health')
class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly authkit: AuthKitHealthIndicator,
  ) {}

  @Get('ready')
  @HealthCheck()
  ready() {
    return this.health.check([() => this.authkit.isHealthy()]);
  }

  /** For an app that would rather leave rotation than refresh without Redis. */
  @Get('strict')
  @HealthCheck()
  strict() {
    return this.health.check([
      () => this.authkit.isHealthy('authkit', { store: { required: true } }),
    ]);
  }

  /** For an app whose fresh decisions are a small part of it. */
  @Get('lenient')
  @HealthCheck()
  lenient() {
    return this.health.check([
      () => this.authkit.isHealthy('authkit', { liveFlags: { required: false } }),
    ]);
  }

  @Get('parts')
  @HealthCheck()
  parts() {
    return this.health.check([
      () => this.authkit.checkJwks(),
      () => this.authkit.checkStore(),
      () => this.authkit.checkLiveFlags(),
    ]);
  }
}

/** Past the key set's 10-minute max age. */
const PAST_JWKS_MAX_AGE_MS = 11 * 60_000;

describe('AuthKitHealthIndicator over HTTP', () => {
  let emulator: WorkOSEmulator;
  let app: INestApplication | undefined;
  let server: Server;
  let logger: CapturingLogger;
  let restoreClock: (() => void) | undefined;

  beforeAll(async () => {
    emulator = await startSeededEmulator();
  });
  afterAll(() => emulator.close());
  afterEach(async () => {
    restoreClock?.();
    restoreClock = undefined;
    emulator.clearFaults();
    await app?.close();
    app = undefined;
  });

  async function start(options: Partial<AuthKitModuleOptions> = {}): Promise<void> {
    const moduleRef = await Test.createTestingModule({
      imports: [
        TerminusModule.forRoot(),
        AuthKitModule.forRoot({
          ...emulator.moduleOptions(),
          cookiePassword: COOKIE_PASSWORD,
          ...options,
        }),
      ],
      controllers: [HealthController],
      providers: [AuthKitHealthIndicator],
    }).compile();
    logger = new CapturingLogger();
    app = moduleRef.createNestApplication({ logger });
    await app.init();
    server = app.getHttpServer() as Server;
  }

  const probe = (path = '/health/ready') => request(server).get(path);

  /** Moves `Date.now()` (ours and the SDK's: one process) `ms` ahead; timers stay real. */
  function advanceClock(ms: number): void {
    const realNow = Date.now.bind(Date);
    const spy = jest.spyOn(Date, 'now').mockImplementation(() => realNow() + ms);
    restoreClock = () => spy.mockRestore();
  }

  /** Nothing secret (nor where the keys come from) in a probe's answer or the logs. */
  function expectNoSecret(body: unknown): void {
    const text = JSON.stringify(body) + logger.lines.join('\n');
    expect(text).not.toContain(emulator.apiKey);
    expect(text).not.toContain(COOKIE_PASSWORD);
    expect(JSON.stringify(body)).not.toContain('/sso/jwks');
  }

  it('answers 200 up with every part in the details', async () => {
    await start();
    const res = await probe();
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: 'ok', error: {} });
    expect(res.body.details.authkit).toEqual({
      status: 'up',
      jwks: { status: 'up', keys: 1, ageSeconds: 0 },
      store: { status: 'up', shared: false, latencyMs: expect.any(Number) },
      liveFlags: { status: 'disabled' },
    });
    expectNoSecret(res.body);

    const parts = await probe('/health/parts');
    expect([parts.status, parts.body.details]).toEqual([
      200,
      {
        authkit_jwks: { status: 'up', keys: 1, ageSeconds: expect.any(Number) },
        authkit_store: { status: 'up', shared: false, latencyMs: expect.any(Number) },
        authkit_live_flags: { status: 'up', disabled: true },
      },
    ]);
  });

  it('20 probes, 10 of them at once, fetch the JWKS once', async () => {
    await start();
    const before = emulator.calls.jwks;
    const together = await Promise.all(Array.from({ length: 10 }, () => probe()));
    expect(together.map((res) => res.status)).toEqual(Array(10).fill(200));
    for (let i = 0; i < 10; i++) expect((await probe()).status).toBe(200);
    expect(emulator.calls.jwks - before).toBe(1);
  });

  it('JWKS failing while a key set is held: still up, the failure in the details', async () => {
    await start();
    expect((await probe()).status).toBe(200);
    emulator.fault('jwks', { status: 500 });
    // Past the set's max age: the probe refetches in the background, the held set answers.
    advanceClock(PAST_JWKS_MAX_AGE_MS);
    const before = emulator.calls.jwks;
    const res = await probe();
    expect(res.status).toBe(200);
    expect(res.body.details.authkit.jwks).toMatchObject({ status: 'up', keys: 1 });

    // Once that refetch has failed, probes say so, still up, and wait for its back-off.
    const deadline = performance.now() + 5000;
    let jwks: { status: string; reason?: string } = res.body.details.authkit.jwks;
    while (!jwks.reason && performance.now() < deadline) {
      const next = await probe();
      expect(next.status).toBe(200);
      jwks = next.body.details.authkit.jwks;
    }
    expect(jwks).toEqual({
      status: 'up',
      keys: 1,
      ageSeconds: expect.any(Number),
      reason: 'last JWKS fetch: answered HTTP 500; verifying with the last good set',
    });
    expect(emulator.calls.jwks - before).toBeGreaterThanOrEqual(1);
    expect(emulator.calls.jwks - before).toBeLessThanOrEqual(2);
  });

  it('JWKS failing with no key held: 503 naming jwks, up again once it answers', async () => {
    emulator.fault('jwks', { status: 500 });
    await start();
    const res = await probe();
    expect(res.status).toBe(503);
    expect(res.body.status).toBe('error');
    expect(res.body.error.authkit).toEqual({
      status: 'down',
      jwks: {
        status: 'down',
        keys: 0,
        reason: 'no usable signing key (last JWKS fetch: answered HTTP 500)',
      },
      store: { status: 'up', shared: false, latencyMs: expect.any(Number) },
      liveFlags: { status: 'disabled' },
    });
    expectNoSecret(res.body);

    const parts = await probe('/health/parts');
    expect(parts.status).toBe(503);
    expect(Object.keys(parts.body.error)).toEqual(['authkit_jwks']);

    // Two failures in a row: the set backs off 1 s, and probes meanwhile fetch nothing.
    emulator.clearFaults();
    const before = emulator.calls.jwks;
    const started = performance.now();
    let repaired = await probe();
    while (repaired.status === 503 && performance.now() - started < 3000) {
      expect(emulator.calls.jwks).toBe(before);
      await new Promise((resolve) => setTimeout(resolve, 50)); // a probe's pace, not a race
      repaired = await probe();
    }
    expect(repaired.status).toBe(200);
    expect(repaired.body.details.authkit.jwks).toEqual({ status: 'up', keys: 1, ageSeconds: 0 });
    expect(emulator.calls.jwks - before).toBe(1);
    expect(performance.now() - started).toBeGreaterThan(500);
  });

  describe('with Redis', () => {
    let redis: OwnRedis;
    let client: Redis;
    let store: RedisStore;

    beforeEach(async () => {
      redis = await OwnRedis.start();
      client = await storeClient(redis.port);
      store = await RedisStore.create({ client });
    });
    afterEach(async () => {
      await store.close();
      client.disconnect();
      await redis.stop();
    });

    it('Redis stopped: the store is degraded (down when required), up again once back', async () => {
      await start({ store });
      const up = await probe();
      expect(up.status).toBe(200);
      expect(up.body.details.authkit.store).toEqual({
        status: 'up',
        shared: true,
        latencyMs: expect.any(Number),
      });

      await redis.stop();
      const degraded = await probe();
      expect(degraded.status).toBe(200);
      expect(degraded.body.status).toBe('degraded');
      expect(degraded.body.details.authkit).toMatchObject({
        status: 'degraded',
        jwks: { status: 'up' },
        store: { status: 'degraded', shared: true, reason: expect.stringMatching(/^unreachable/) },
      });

      const strict = await probe('/health/strict');
      expect(strict.status).toBe(503);
      expect(strict.body.error.authkit).toMatchObject({
        status: 'down',
        store: { status: 'down', shared: true, reason: expect.stringMatching(/^unreachable/) },
      });
      expectNoSecret(strict.body);

      await redis.start();
      await ready(client);
      const back = await probe('/health/strict');
      expect(back.status).toBe(200);
      expect(back.body.details.authkit.store.status).toBe('up');
    });

    it('Redis frozen: the ping gives up after its timeout', async () => {
      await start({ store });
      expect((await probe('/health/strict')).status).toBe(200);
      redis.pause();
      try {
        const res = await probe('/health/strict');
        expect(res.status).toBe(503);
        expect(res.body.error.authkit.store).toEqual({
          status: 'down',
          shared: true,
          reason: 'unreachable (no answer within 1000 ms)',
        });
      } finally {
        redis.resume();
      }
    });
  });

  describe('live flags', () => {
    it('up while polled; down once the configuration is older than maxStalenessMs', async () => {
      await start({ flags: { live: { pollingIntervalMs: 5000 } } });
      const fresh = await probe();
      expect(fresh.status).toBe(200);
      expect(fresh.body.details.authkit.liveFlags).toEqual({
        status: 'up',
        ageSeconds: expect.any(Number),
        maxAgeSeconds: 15,
      });
      // Polled at boot (a busy machine may take a moment to probe).
      expect(fresh.body.details.authkit.liveFlags.ageSeconds).toBeLessThan(5);

      // Polls fail from now on, and the last good one is over 16 s old.
      emulator.fault('sdk-flags', { status: 500 });
      advanceClock(16_000);
      const stale = await probe();
      expect(stale.status).toBe(503);
      expect(stale.body.error.authkit).toMatchObject({
        status: 'down',
        jwks: { status: 'up' },
        liveFlags: {
          status: 'down',
          ageSeconds: expect.any(Number),
          maxAgeSeconds: 15,
          reason: 'configuration older than maxAgeSeconds',
        },
      });
      expect(stale.body.error.authkit.liveFlags.ageSeconds).toBeGreaterThanOrEqual(16);
      expectNoSecret(stale.body);

      const lenient = await probe('/health/lenient');
      expect([lenient.status, lenient.body.status]).toEqual([200, 'degraded']);
      expect(lenient.body.details.authkit.liveFlags.status).toBe('degraded');
    });

    it('never polled: down, saying so', async () => {
      emulator.fault('sdk-flags', { status: 500 });
      await start({ flags: { live: { pollingIntervalMs: 5000 } } });
      const res = await probe();
      expect(res.status).toBe(503);
      expect(res.body.error.authkit.liveFlags).toEqual({
        status: 'down',
        maxAgeSeconds: 15,
        reason: 'no successful poll of the configuration yet',
      });
    });
  });
});
