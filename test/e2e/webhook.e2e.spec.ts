import { Module, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import { Redis } from 'ioredis';
import request from 'supertest';
import { ClaimsWatermark } from '../../lib/session/claims-watermark.js';
import { AuthKitModule } from '../../lib/index.js';
import { RedisStore } from '../../lib/redis/index.js';
import { WorkOSEmulator } from '../../lib/testing/index.js';
import {
  CapturingLogger,
  COOKIE_PASSWORD,
  sessionCookieFrom,
  startApp,
  type Platform,
  type TestApp,
} from './support/app.fixture.js';
import { ALICE, ORG_B, startSeededEmulator } from './support/seed.js';

const SECRET = 'whsec_e2e_webhook';

/** An app with nothing but the module and its webhook route (built with the app's own options). */
function webhookAppModule(emulator: WorkOSEmulator) {
  @Module({
    imports: [
      AuthKitModule.forRoot({
        ...emulator.moduleOptions(),
        cookiePassword: COOKIE_PASSWORD,
        webhooks: true,
        webhookSecret: SECRET,
      }),
    ],
  })
  class AppModule {}
  return AppModule;
}

/** A `flag.updated` delivery as WorkOS sends it: its body and `WorkOS-Signature`. */
function delivery(options: { id?: string; timestamp?: number } = {}) {
  const body = JSON.stringify({
    id: options.id ?? `event_${randomBytes(6).toString('hex')}`,
    event: 'flag.updated',
    data: { object: 'feature_flag', id: 'flag_beta', slug: 'beta', enabled: true },
    created_at: new Date().toISOString(),
  });
  return { body, signature: WorkOSEmulator.signWebhook(body, SECRET, options.timestamp) };
}

function deliver(server: Server, { body, signature }: ReturnType<typeof delivery>) {
  return request(server)
    .post('/webhooks/workos')
    .set('Content-Type', 'application/json')
    .set('WorkOS-Signature', signature)
    .send(body);
}

/** What `t` logged from line `from` on at warn or error level, or about a flag change. */
function noise(t: TestApp, from: number): string[] {
  return t.logger.lines
    .slice(from)
    .filter((line) => /^(error|warn) /.test(line) || line.includes('flags changed'));
}

describe.each<Platform>(['express', 'fastify'])('the webhook route on %s', (platform) => {
  let emulator: WorkOSEmulator;
  beforeAll(async () => {
    emulator = await startSeededEmulator();
  });
  afterAll(() => emulator.close());

  async function cookie(): Promise<string> {
    const session = await emulator.createSession({ userId: ALICE, organizationId: ORG_B });
    return `wos-session=${emulator.sealSession(session, COOKIE_PASSWORD)}`;
  }

  /** Upstream refreshes caused by one request with `cookie`, and the cookie it leaves. */
  async function refreshesFor(t: TestApp, cookie: string): Promise<[number, string]> {
    const before = emulator.calls.refresh;
    const res = await request(t.server).get('/flags/beta').set('Cookie', cookie);
    expect(res.status).toBe(200);
    const renewed = sessionCookieFrom(res);
    return [emulator.calls.refresh - before, renewed ? `wos-session=${renewed}` : cookie];
  }

  describe('one instance', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await startApp(platform, emulator, { webhooks: true, webhookSecret: SECRET });
    });
    afterAll(() => t.close());

    it('issue 10.5: text/plain, application/octet-stream and no content type → 415 UNSUPPORTED_MEDIA_TYPE, no error log (SECURITY 31)', async () => {
      const from = t.logger.lines.length;
      const signed = delivery();
      for (const contentType of ['text/plain', 'application/octet-stream', undefined]) {
        for (const signature of [signed.signature, undefined]) {
          let req = request(t.server).post('/webhooks/workos');
          if (contentType) req = req.set('Content-Type', contentType);
          if (signature) req = req.set('WorkOS-Signature', signature);
          const res = await req.send(Buffer.from(signed.body));
          expect([contentType, signature ? 'signed' : 'unsigned', res.status]).toEqual([
            contentType,
            signature ? 'signed' : 'unsigned',
            415,
          ]);
          expect(res.body).toMatchObject({ statusCode: 415, reason: 'UNSUPPORTED_MEDIA_TYPE' });
        }
      }
      expect(noise(t, from)).toEqual([]);
      expect(t.app.get(ClaimsWatermark).value).toBe(0);
      // JSON with parameters is what WorkOS may send: accepted.
      const res = await request(t.server)
        .post('/webhooks/workos')
        .set('Content-Type', 'application/json; charset=utf-8')
        .set('WorkOS-Signature', signed.signature)
        .send(signed.body);
      expect(res.status).toBe(200);
    });

    it('issue 10.5: a replayed event id is acknowledged and moves nothing (no second refresh wave) — same instance', async () => {
      const stale = await cookie();
      const event = delivery();
      expect((await deliver(t.server, event)).body).toEqual({ received: true });
      const [first, fresh] = await refreshesFor(t, stale);
      expect(first).toBe(1);

      const watermark = t.app.get(ClaimsWatermark).value;
      const from = t.logger.lines.length;
      for (let replay = 0; replay < 3; replay++) {
        const res = await deliver(t.server, event);
        expect([res.status, res.body]).toEqual([200, { received: true, duplicate: true }]);
      }
      expect(t.app.get(ClaimsWatermark).value).toBe(watermark);
      expect((await refreshesFor(t, fresh))[0]).toBe(0);
      expect(noise(t, from)).toEqual([]);
    });

    it('issue 10.5: a signature timestamp in the future is refused', async () => {
      const watermark = t.app.get(ClaimsWatermark).value;
      const ahead = await deliver(t.server, delivery({ timestamp: Date.now() + 5 * 60_000 }));
      expect(ahead.status).toBe(400);
      expect(ahead.body).toMatchObject({
        reason: 'SIGNATURE_INVALID',
        message: expect.stringContaining('future'),
      });
      expect(t.app.get(ClaimsWatermark).value).toBe(watermark);
      // Within tokens.clockToleranceSeconds (30 s) a clock slightly ahead is fine.
      const skewed = await deliver(t.server, delivery({ timestamp: Date.now() + 10_000 }));
      expect([skewed.status, skewed.body]).toEqual([200, { received: true }]);
    });
  });

  it('issue 10.5: a replayed event id is acknowledged and moves nothing (no second refresh wave) — across two instances on Redis', async () => {
    const prefix = `nestjs-authkit-test-${randomBytes(4).toString('hex')}:`;
    const clients: Redis[] = [];
    const stores: RedisStore[] = [];
    const apps: TestApp[] = [];
    try {
      for (let i = 0; i < 2; i++) {
        const client = new Redis({ host: '127.0.0.1', port: 6379, maxRetriesPerRequest: 1 });
        client.on('error', () => undefined);
        clients.push(client);
        const store = await RedisStore.create({ client, prefix });
        stores.push(store);
        apps.push(
          await startApp(platform, emulator, { webhooks: true, webhookSecret: SECRET, store }),
        );
      }
      const [a, b] = apps as [TestApp, TestApp];
      const watermarkB = b.app.get(ClaimsWatermark);
      const stale = await cookie();
      const event = delivery();

      const reached = new Promise<void>((resolve) => {
        const stop = watermarkB.onMove(() => {
          stop();
          resolve();
        });
      });
      expect((await deliver(a.server, event)).body).toEqual({ received: true });
      await reached; // B heard of the change from A
      const [first, fresh] = await refreshesFor(b, stale);
      expect(first).toBe(1);

      // B never saw this event itself: only the store knows it was processed.
      const watermark = watermarkB.value;
      const from = b.logger.lines.length;
      const replay = await deliver(b.server, event);
      expect([replay.status, replay.body]).toEqual([200, { received: true, duplicate: true }]);
      expect(watermarkB.value).toBe(watermark);
      expect((await refreshesFor(b, fresh))[0]).toBe(0);
      expect(noise(b, from)).toEqual([]);
      // And the instance that processed it acknowledges a WorkOS retry the same way.
      expect((await deliver(a.server, event)).body).toEqual({ received: true, duplicate: true });
    } finally {
      for (const app of apps) await app.close();
      for (const store of stores) await store.close();
      for (const client of clients) client.disconnect();
    }
  });

  it('issue 10.5: with the store unreachable a new event is still processed, and its replay still recognised by that instance', async () => {
    const client = new Redis({ host: '127.0.0.1', port: 6379, maxRetriesPerRequest: 1 });
    client.on('error', () => undefined);
    const store = await RedisStore.create({
      client,
      prefix: `nestjs-authkit-test-${randomBytes(4).toString('hex')}:`,
    });
    const t = await startApp(platform, emulator, { webhooks: true, webhookSecret: SECRET, store });
    try {
      client.disconnect(); // every store command now fails
      const event = delivery();
      expect((await deliver(t.server, event)).body).toEqual({ received: true });
      const watermark = t.app.get(ClaimsWatermark).value;
      expect(watermark).toBeGreaterThan(0);
      const from = t.logger.lines.length;
      expect((await deliver(t.server, event)).body).toEqual({ received: true, duplicate: true });
      expect(t.app.get(ClaimsWatermark).value).toBe(watermark);
      expect(noise(t, from)).toEqual([]); // the outage was reported once, on the first event
      expect(t.logger.lines.filter((line) => line.includes('event ids not shared'))).toHaveLength(
        1,
      );
    } finally {
      await t.close();
      await store.close();
    }
  });

  it('issue 10.5: a body parser the boot check cannot see (bodyParser: false) is reported on the first webhook, once', async () => {
    const AppModule = webhookAppModule(emulator);
    const logger = new CapturingLogger();
    const app: INestApplication =
      platform === 'express'
        ? await NestFactory.create(AppModule, { logger, bodyParser: false })
        : await NestFactory.create(AppModule, new FastifyAdapter(), { logger, bodyParser: false });
    await app.init();
    try {
      if (platform === 'fastify') {
        await (app as NestFastifyApplication).getHttpAdapter().getInstance().ready();
      }
      const server = app.getHttpServer() as Server;
      const answers = [];
      for (let i = 0; i < 3; i++) answers.push(await deliver(server, delivery()));
      // Fastify's own JSON parser (or Express without one) leaves no raw body behind.
      expect(answers.map((res) => [res.status, res.body.reason])).toEqual(
        Array(3).fill([500, 'RAW_BODY_MISSING']),
      );
      expect(answers[0]!.body.message).toMatch(
        /NestFactory\.create\(AppModule, \{ rawBody: true \}\)/,
      );
      const errors = logger.lines.filter((line) => line.startsWith('error'));
      expect(errors).toEqual([expect.stringContaining('webhook received without its raw body')]);
    } finally {
      await app.close();
    }
  });

  it('issue 10.5: an app with webhooks but without rawBody fails at boot naming { rawBody: true }', async () => {
    const AppModule = webhookAppModule(emulator);
    const fix = /NestFactory\.create\(AppModule, \{ rawBody: true \}\)/;

    // Created as in production: listen() fails before it binds a port.
    const app: INestApplication =
      platform === 'express'
        ? await NestFactory.create(AppModule, { logger: false })
        : await NestFactory.create(AppModule, new FastifyAdapter(), { logger: false });
    try {
      await expect(app.listen(0, '127.0.0.1')).rejects.toThrow(fix);
    } finally {
      await app.close();
    }

    // Created as an app's own e2e tests do: init() fails the same way.
    const moduleRef = await Test.createTestingModule({ imports: [AppModule] }).compile();
    const tested: INestApplication =
      platform === 'express'
        ? moduleRef.createNestApplication({ logger: false })
        : moduleRef.createNestApplication(new FastifyAdapter(), { logger: false });
    try {
      await expect(tested.init()).rejects.toThrow(fix);
    } finally {
      await tested.close();
    }
  });
});
