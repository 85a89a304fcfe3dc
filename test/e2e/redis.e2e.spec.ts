import { createHash, randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import request from 'supertest';
import { ClaimsWatermark } from '../../lib/session/claims-watermark.js';
import { FlagService } from '../../lib/index.js';
import { RedisStore } from '../../lib/redis/index.js';
import { unseal } from '../../lib/session/iron.js';
import type { WorkOSEmulator } from '../../lib/testing/index.js';
import {
  COOKIE_PASSWORD,
  sessionCookieFrom,
  type Platform,
  type TestApp,
} from './support/app.fixture.js';
import { OwnRedis } from './support/own-redis.js';
import { startRedisInstances, type RedisInstances } from './support/redis-instances.js';
import { ALICE, ORG_A, ORG_B, startSeededEmulator } from './support/seed.js';

describe.each<Platform>(['express', 'fastify'])('two instances sharing Redis on %s', (platform) => {
  let emulator: WorkOSEmulator;
  let redis: OwnRedis;
  let instances: RedisInstances;
  let clients: Redis[];
  let stores: RedisStore[];
  let apps: TestApp[];

  beforeAll(async () => {
    emulator = await startSeededEmulator();
    redis = await OwnRedis.start();
    const prefix = `nestjs-authkit-test-${randomBytes(4).toString('hex')}:`;
    instances = await startRedisInstances(platform, emulator, [redis.port, redis.port], prefix);
    ({ clients, stores, apps } = instances);
  });
  afterAll(async () => {
    await instances.close();
    await redis.stop();
    await emulator.close();
  });

  async function expiredCookie(): Promise<string> {
    const session = await emulator.createSession({
      userId: ALICE,
      organizationId: ORG_B,
      accessTokenExpiresIn: -120,
    });
    return `wos-session=${emulator.sealSession(session, COOKIE_PASSWORD)}`;
  }

  /** 100 concurrent requests with one cookie, alternating between the two instances. */
  async function burst(cookie: string) {
    return Promise.all(
      Array.from({ length: 100 }, (_, i) =>
        request(apps[i % 2]!.server)
          .get('/flags/beta')
          .set('Cookie', cookie),
      ),
    );
  }

  it('100 concurrent requests with one expired cookie over two instances: exactly one upstream refresh', async () => {
    const before = emulator.calls.refresh;
    const responses = await burst(await expiredCookie());
    expect(responses.map((r) => r.status)).toEqual(Array(100).fill(200));
    expect(emulator.calls.refresh - before).toBe(1);
    expect(emulator.calls.invalidGrant).toBe(0);
    const cookies = new Set(responses.map((r) => sessionCookieFrom(r)));
    expect(cookies.size).toBe(1);
    expect([...cookies][0]).toMatch(/^Fe26\.2\*/);
  });

  it('a lock left by a dead instance expires and another instance takes over, still one refresh', async () => {
    const cookie = await expiredCookie();
    const sealed = cookie.slice('wos-session='.length);
    const opened = unseal(sealed, COOKIE_PASSWORD);
    if (!opened.ok) throw new Error('cookie did not unseal');
    const { refreshToken } = opened.data as { refreshToken: string };
    const hash = createHash('sha256').update(refreshToken).digest('base64url');
    // The winner "died" holding the lock: it expires in 300 ms, with no result stored.
    await clients[0]!.set(`${stores[0]!.prefix}refresh:lock:${hash}`, 'dead', 'PX', 300);
    const before = emulator.calls.refresh;
    const responses = await burst(cookie);
    expect(responses.every((r) => r.status === 200)).toBe(true);
    expect(emulator.calls.refresh - before).toBe(1);
    expect(new Set(responses.map((r) => sessionCookieFrom(r))).size).toBe(1);
  });

  // Before any change to every session: tokens issued now must not predate one.
  it("a scoped change reaches the other instance with its scope: ORG_A's sessions refresh there, ORG_B's do not", async () => {
    const cookieIn = async (organizationId: string) =>
      `wos-session=${emulator.sealSession(
        await emulator.createSession({ userId: ALICE, organizationId }),
        COOKIE_PASSWORD,
      )}`;
    const inA = await cookieIn(ORG_A);
    const inB = await cookieIn(ORG_B);
    const peer = apps[1]!.app.get(ClaimsWatermark);
    const arrived = new Promise<void>((resolve) => {
      const stop = peer.onMove(() => {
        stop();
        resolve();
      });
    });
    apps[0]!.app.get(FlagService).invalidate({ organizations: [ORG_A] }, 'test');
    await arrived;
    const refreshesFor = async (cookie: string) => {
      const before = emulator.calls.refresh;
      await request(apps[1]!.server).get('/flags/beta').set('Cookie', cookie);
      return emulator.calls.refresh - before;
    };
    expect([await refreshesFor(inA), await refreshesFor(inB)]).toEqual([1, 0]);
  });

  it('a flag change seen by one instance reaches the other', async () => {
    const cookie = `wos-session=${emulator.sealSession(
      await emulator.createSession({ userId: ALICE, organizationId: ORG_A }),
      COOKIE_PASSWORD,
    )}`;
    expect((await request(apps[1]!.server).get('/flags/beta').set('Cookie', cookie)).status).toBe(
      403,
    );
    emulator.setFlag('beta', { orgRule: 'all' });
    const arrived = new Promise<void>((resolve) => {
      const stop = apps[1]!.app.get(ClaimsWatermark).onMove(() => {
        stop();
        resolve();
      });
    });
    apps[0]!.app.get(FlagService).invalidate('test');
    await arrived; // delivered through Redis pub/sub
    const before = emulator.calls.refresh;
    expect((await request(apps[1]!.server).get('/flags/beta').set('Cookie', cookie)).status).toBe(
      200,
    );
    expect(emulator.calls.refresh - before).toBe(1);
    emulator.setFlag('beta', { orgRule: 'some', organizations: [ORG_B] });
  });

  it("29: a peer's watermark from the future is clamped to the local clock", async () => {
    const watermark = apps[1]!.app.get(ClaimsWatermark);
    const arrived = new Promise<void>((resolve) => {
      const stop = watermark.onMove(() => {
        stop();
        resolve();
      });
    });
    const sent = Date.now();
    // An instance whose clock runs an hour fast announces a change.
    await stores[0]!.publish(
      `${stores[0]!.prefix}flags:watermark`,
      JSON.stringify({ at: sent + 3_600_000, source: 'webhook', from: 'peer-with-a-fast-clock' }),
    );
    await arrived;
    expect(watermark.value).toBeGreaterThanOrEqual(sent);
    expect(watermark.value).toBeLessThanOrEqual(Date.now());
    // A token issued after the change (2 s ahead, within the clock tolerance) is not stale.
    const token = await emulator.signAccessToken({
      iss: emulator.issuer,
      sub: ALICE,
      sid: 'session_01CLAMP',
      org_id: ORG_B,
      feature_flags: ['beta'],
      iat: Math.floor(Date.now() / 1000) + 2,
      exp: Math.floor(Date.now() / 1000) + 300,
    });
    const res = await request(apps[1]!.server)
      .get('/flags/beta')
      .set('Authorization', `Bearer ${token}`);
    expect([res.status, res.body.reason]).toEqual([200, undefined]);
    expect(apps[1]!.logger.lines.some((line) => line.includes('in the future'))).toBe(true);
  });
});
