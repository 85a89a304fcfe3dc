import { Controller, Get, Query, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { Module } from '@nestjs/common';
import type { Server } from 'node:http';
import request from 'supertest';
import { ClaimsWatermark } from '../../lib/session/claims-watermark.js';
import {
  AuthKitModule,
  FlagService,
  RequireFlag,
  type AuthKitModuleExtras,
  type AuthKitModuleOptions,
  type FlagDecision,
} from '../../lib/index.js';
import { WorkOSEmulator } from '../../lib/testing/index.js';
import {
  CapturingLogger,
  COOKIE_PASSWORD,
  sessionCookieFrom,
  type Platform,
} from './support/app.fixture.js';
import { ALICE, BOB, CAROL, ORG_A, ORG_B, startSeededEmulator } from './support/seed.js';

const WEBHOOK_SECRET = 'whsec_e2e_freshness';

@Controller()
class FreshnessController {
  constructor(private readonly flags: FlagService) {}

  @Get('beta')
  @RequireFlag('beta')
  beta() {
    return { ok: true };
  }

  @Get('beta-young')
  @RequireFlag('beta', { maxClaimAge: 30 })
  young() {
    return { ok: true };
  }

  @Get('alpha')
  @RequireFlag('alpha')
  alpha() {
    return { ok: true };
  }

  @Get('beta-fresh')
  @RequireFlag('beta', { fresh: true })
  fresh() {
    return { ok: true };
  }

  @Get('beta-fresh-or-claim')
  @RequireFlag('beta', { fresh: { onUnavailable: 'claim' } })
  freshOrClaim() {
    return { ok: true };
  }

  @Get('explain')
  explain(@Query('userId') userId: string, @Query('organizationId') organizationId?: string) {
    return this.flags.explain({ userId, organizationId });
  }
}

interface FreshApp {
  app: INestApplication;
  server: Server;
  url: string;
  logger: CapturingLogger;
  watermark: ClaimsWatermark;
  flags: FlagService;
  close(): Promise<void>;
}

async function startFreshApp(
  platform: Platform,
  emulator: WorkOSEmulator,
  options: Partial<AuthKitModuleOptions> & AuthKitModuleExtras,
): Promise<FreshApp> {
  @Module({
    imports: [
      AuthKitModule.forRoot({
        ...emulator.moduleOptions(),
        cookiePassword: COOKIE_PASSWORD,
        ...options,
      }),
    ],
    controllers: [FreshnessController],
  })
  class AppModule {}
  const logger = new CapturingLogger();
  const app =
    platform === 'express'
      ? await NestFactory.create(AppModule, { logger, rawBody: true })
      : await NestFactory.create<NestFastifyApplication>(AppModule, new FastifyAdapter(), {
          logger,
          rawBody: true,
        });
  await app.listen(0, '127.0.0.1');
  const url = await app.getUrl();
  return {
    app,
    server: app.getHttpServer() as Server,
    url: url.replace('[::1]', '127.0.0.1'),
    logger,
    watermark: app.get(ClaimsWatermark),
    flags: app.get(FlagService),
    close: () => app.close(),
  };
}

/** Resolves when the watermark next moves (the change event has been processed). */
function nextMove(watermark: ClaimsWatermark): Promise<number> {
  return new Promise((resolve) => {
    const stop = watermark.onMove((at) => {
      stop();
      resolve(at);
    });
  });
}

describe.each<Platform>(['express', 'fastify'])('fresh flags on %s', (platform) => {
  let emulator: WorkOSEmulator;

  beforeEach(async () => {
    emulator = await startSeededEmulator();
  });
  afterEach(() => emulator.close());

  async function cookieFor(userId: string, organizationId: string, issuedSecondsAgo = 0) {
    const session = await emulator.createSession({ userId, organizationId, issuedSecondsAgo });
    return `wos-session=${emulator.sealSession(session, COOKIE_PASSWORD)}`;
  }

  /** ORG_B ("org X") has beta through "Some"; ORG_A does not. */
  async function sessions() {
    return {
      aliceB: await cookieFor(ALICE, ORG_B),
      aliceA: await cookieFor(ALICE, ORG_A),
      bobA: await cookieFor(BOB, ORG_A),
    };
  }

  const status = async (t: FreshApp, path: string, cookie: string) =>
    (await request(t.server).get(path).set('Cookie', cookie)).status;

  it('the reported scenario: "Some: X" widened to "All" — after the runtime client sees it, no request decides on a stale claim', async () => {
    const t = await startFreshApp(platform, emulator, {
      flags: { live: { pollingIntervalMs: 5000 } },
    });
    try {
      const s = await sessions();
      expect(await status(t, '/beta', s.aliceB)).toBe(200);
      expect(await status(t, '/beta', s.aliceA)).toBe(403);
      expect(await status(t, '/beta', s.bobA)).toBe(403);
      const before = emulator.calls.refresh;

      const moved = nextMove(t.watermark);
      emulator.setFlag('beta', { orgRule: 'all', organizations: [] });
      await moved; // the SDK runtime client polled and emitted `change`

      // Every request after the change: org X keeps the flag, the others gain it.
      for (let round = 0; round < 3; round++) {
        expect(await status(t, '/beta', s.aliceB)).toBe(200);
        expect(await status(t, '/beta', s.aliceA)).toBe(200);
        expect(await status(t, '/beta', s.bobA)).toBe(200);
      }
      // One refresh per session, however many requests carried its old cookie.
      expect(emulator.calls.refresh - before).toBe(3);

      // Narrowing works the same way: now only ORG_A keeps it, X loses it.
      const narrowed = nextMove(t.watermark);
      emulator.setFlag('beta', { orgRule: 'some', organizations: [ORG_A] });
      await narrowed;
      expect(await status(t, '/beta', s.aliceB)).toBe(403);
      expect(await status(t, '/beta', s.aliceA)).toBe(200);
      expect(await status(t, '/beta', s.bobA)).toBe(200);
      expect(emulator.calls.refresh - before).toBe(6);
    } finally {
      await t.close();
    }
  }, 30_000);

  it('tokens.maxClaimAge alone bounds staleness by age: older tokens are refreshed before the decision', async () => {
    const t = await startFreshApp(platform, emulator, { tokens: { maxClaimAge: 60 } });
    try {
      const old = await cookieFor(ALICE, ORG_A, 90);
      const young = await cookieFor(ALICE, ORG_A, 0);
      emulator.setFlag('beta', { orgRule: 'all' }); // no event reaches the app
      const before = emulator.calls.refresh;

      const res = await request(t.server).get('/beta').set('Cookie', old);
      expect(res.status).toBe(200);
      expect(emulator.calls.refresh - before).toBe(1);
      expect(sessionCookieFrom(res)).toBeTruthy(); // the browser gets the fresh session
      // A token younger than the bound keeps its (stale) claim: staleness is bounded, not zero.
      expect(await status(t, '/beta', young)).toBe(403);
      expect(emulator.calls.refresh - before).toBe(1);
    } finally {
      await t.close();
    }
  });

  it('maxClaimAge per route: only that route refreshes a token older than its bound', async () => {
    const t = await startFreshApp(platform, emulator, {});
    try {
      const cookie = await cookieFor(ALICE, ORG_A, 45);
      emulator.setFlag('beta', { orgRule: 'all' });
      const before = emulator.calls.refresh;
      expect(await status(t, '/beta', cookie)).toBe(403); // no bound: the claim decides
      expect(emulator.calls.refresh).toBe(before);
      expect(await status(t, '/beta-young', cookie)).toBe(200); // 45 s > 30 s: refreshed first
      expect(emulator.calls.refresh - before).toBe(1);
    } finally {
      await t.close();
    }
  });

  type Who = 'aliceA' | 'bobA' | 'aliceB' | 'carolB';
  const WHO: Record<Who, [string, string]> = {
    aliceA: [ALICE, ORG_A],
    bobA: [BOB, ORG_A],
    aliceB: [ALICE, ORG_B],
    carolB: [CAROL, ORG_B],
  };

  /** One cookie per session (the newest it was given); `beta` is on in ORG_B only. */
  async function jar(): Promise<Record<Who, string>> {
    const cookies = {} as Record<Who, string>;
    for (const [who, [userId, organizationId]] of Object.entries(WHO)) {
      cookies[who as Who] = await cookieFor(userId, organizationId);
    }
    return cookies;
  }

  /** The same [status, refreshes] for every session. */
  const everyone = (status: number, refreshes: number) =>
    Object.fromEntries(Object.keys(WHO).map((who) => [who, [status, refreshes]]));

  /**
   * One request per session, one after the other: the status each got and how many upstream
   * refreshes each caused. Keeps the cookie a refresh wrote.
   */
  async function visit(t: FreshApp, path: string, cookies: Record<Who, string>) {
    const seen = {} as Record<Who, [number, number]>;
    for (const who of Object.keys(WHO) as Who[]) {
      const before = emulator.calls.refresh;
      const res = await request(t.server).get(path).set('Cookie', cookies[who]);
      seen[who] = [res.status, emulator.calls.refresh - before];
      const renewed = sessionCookieFrom(res);
      if (renewed) cookies[who] = `wos-session=${renewed}`;
    }
    return seen;
  }

  describe('change-scoped: a change refreshes only the sessions it can affect', () => {
    it("the runtime client's change is scoped the same way", async () => {
      const t = await startFreshApp(platform, emulator, {
        flags: { live: { pollingIntervalMs: 5000 } },
      });
      try {
        const cookies = await jar();
        const moved = nextMove(t.watermark);
        emulator.setFlag('alpha', { orgRule: 'some', organizations: [ORG_A], users: [CAROL] });
        await moved;
        expect(await visit(t, '/alpha', cookies)).toEqual({
          aliceA: [200, 1],
          bobA: [200, 1],
          aliceB: [403, 0],
          carolB: [200, 1],
        });
      } finally {
        await t.close();
      }
    }, 30_000);

    it('FlagService.invalidate({ organizations }) refreshes that organization only', async () => {
      const t = await startFreshApp(platform, emulator, {});
      try {
        const cookies = await jar();
        t.flags.invalidate({ organizations: [ORG_B] }, 'test');
        expect(await visit(t, '/beta', cookies)).toEqual({
          aliceA: [403, 0],
          bobA: [403, 0],
          aliceB: [200, 1],
          carolB: [200, 1],
        });
      } finally {
        await t.close();
      }
    });
  });

  describe('webhook', () => {
    let t: FreshApp;
    beforeEach(async () => {
      t = await startFreshApp(platform, emulator, {
        webhooks: true,
        webhookSecret: WEBHOOK_SECRET,
      });
      emulator.sendWebhooksTo(`${t.url}/webhooks/workos`, WEBHOOK_SECRET);
    });
    afterEach(() => t.close());

    const change = async (apply: () => void) => {
      apply();
      await emulator.flushWebhooks();
    };

    it('flag.rule_updated targeting ORG_A and Carol refreshes their sessions only (ORG_B stays); widened to "all" it refreshes everyone', async () => {
      const cookies = await jar();
      const bearerA = (await emulator.createSession({ userId: ALICE, organizationId: ORG_A }))
        .accessToken;
      const bearerB = (await emulator.createSession({ userId: ALICE, organizationId: ORG_B }))
        .accessToken;
      await change(() =>
        emulator.setFlag('alpha', { orgRule: 'some', organizations: [ORG_A], users: [CAROL] }),
      );
      // [status, refreshes]: Alice in ORG_B is neither targeted nor refreshed.
      expect(await visit(t, '/alpha', cookies)).toEqual({
        aliceA: [200, 1],
        bobA: [200, 1],
        aliceB: [403, 0],
        carolB: [200, 1],
      });
      // A Bearer token in ORG_A predates a change affecting it; one in ORG_B does not.
      const bearer = (token: string) =>
        request(t.server).get('/alpha').set('Authorization', `Bearer ${token}`);
      expect((await bearer(bearerA)).body).toMatchObject({ reason: 'STALE_CLAIMS' });
      expect((await bearer(bearerB)).body).toMatchObject({
        reason: 'FLAG_DISABLED',
        source: 'claim',
      });

      await change(() => emulator.setFlag('alpha', { orgRule: 'all' }));
      expect(await visit(t, '/alpha', cookies)).toEqual(everyone(200, 1));
    });

    it('flag.updated (enabled) refreshes every session; a rename refreshes none', async () => {
      const cookies = await jar();
      await change(() => emulator.setFlag('beta', { description: 'renamed' }));
      expect(await visit(t, '/beta', cookies)).toEqual({
        aliceA: [403, 0],
        bobA: [403, 0],
        aliceB: [200, 0],
        carolB: [200, 0],
      });
      await change(() => emulator.setFlag('beta', { enabled: false }));
      expect(await visit(t, '/beta', cookies)).toEqual(everyone(403, 1));
    });

    it('flag.deleted refreshes only the sessions whose claim held the flag', async () => {
      const cookies = await jar();
      await change(() => emulator.deleteFlag('beta'));
      expect(await visit(t, '/beta', cookies)).toEqual({
        aliceA: [403, 0],
        bobA: [403, 0],
        aliceB: [403, 1],
        carolB: [403, 1],
      });
    });

    it('a signed flag.rule_updated moves the watermark: every session is fresh on its next request', async () => {
      const s = await sessions();
      expect(await status(t, '/beta', s.aliceA)).toBe(403);
      const before = emulator.calls.refresh;
      emulator.setFlag('beta', { orgRule: 'all', organizations: [] });
      await emulator.flushWebhooks();
      expect(emulator.calls.webhooksDelivered).toBe(1);
      expect(t.watermark.value).toBeGreaterThan(0);

      expect(await status(t, '/beta', s.aliceB)).toBe(200);
      expect(await status(t, '/beta', s.aliceA)).toBe(200);
      expect(await status(t, '/beta', s.bobA)).toBe(200);
      expect(emulator.calls.refresh - before).toBe(3);
    });

    it.each([
      ['a forged signature', (body: string) => WorkOSEmulator.signWebhook(body, 'whsec_wrong')],
      [
        'a replayed old timestamp',
        (body: string) =>
          WorkOSEmulator.signWebhook(body, WEBHOOK_SECRET, Date.now() - 10 * 60_000),
      ],
      [
        'a tampered body',
        (body: string) => WorkOSEmulator.signWebhook(body.replace('beta', 'gamma'), WEBHOOK_SECRET),
      ],
      ['no signature', () => undefined],
    ])('%s: 400 and nothing changes', async (_, sign) => {
      const cookie = (await sessions()).aliceA;
      const body = JSON.stringify({
        id: 'event_1',
        event: 'flag.updated',
        data: { object: 'feature_flag', id: 'flag_beta', slug: 'beta', enabled: true },
        created_at: new Date().toISOString(),
      });
      const signature = sign(body);
      const req = request(t.server)
        .post('/webhooks/workos')
        .set('Content-Type', 'application/json');
      const res = await (signature ? req.set('WorkOS-Signature', signature) : req).send(body);
      expect(res.status).toBe(400);
      expect(res.body.reason).toMatch(/^SIGNATURE_(INVALID|MISSING)$/);
      expect(t.watermark.value).toBe(0);
      const before = emulator.calls.refresh;
      expect(await status(t, '/beta', cookie)).toBe(403);
      expect(emulator.calls.refresh).toBe(before);
      expect(t.logger.lines.join('\n')).not.toContain(WEBHOOK_SECRET);
    });
  });

  describe('fresh decisions and explain', () => {
    it('decides from the live configuration and logs drift once per (flag, org, token)', async () => {
      const t = await startFreshApp(platform, emulator, {
        flags: { live: { pollingIntervalMs: 5000 } },
      });
      try {
        // A Bearer token whose claim says beta although the live rule (Some: ORG_B) says no.
        const now = Math.floor(Date.now() / 1000);
        const token = await emulator.signAccessToken({
          iss: emulator.issuer,
          sub: ALICE,
          sid: 'session_drift',
          org_id: ORG_A,
          iat: now,
          exp: now + 300,
          feature_flags: ['beta'],
        });
        const get = (path: string) =>
          request(t.server).get(path).set('Authorization', `Bearer ${token}`);
        expect((await get('/beta')).status).toBe(200); // the claim decides
        const fresh = await get('/beta-fresh');
        expect(fresh.status).toBe(403);
        expect(fresh.body).toMatchObject({ reason: 'FLAG_DISABLED', source: 'live' });
        await get('/beta-fresh');
        expect(t.flags.driftStats()).toEqual({ total: 1, byFlag: { beta: 1 } });
        expect(t.logger.lines.filter((l) => l.includes('flag_drift'))).toHaveLength(1);
        expect(t.logger.lines.join('\n')).not.toContain(token);

        const explained = await get(`/explain?userId=${ALICE}&organizationId=${ORG_A}`);
        expect(explained.body).toEqual([
          { slug: 'alpha', claim: false, live: false, rule: 'default-off', drift: false },
          { slug: 'beta', claim: true, live: false, rule: 'default-off', drift: true },
        ]);
        const forB = await get(`/explain?userId=${ALICE}&organizationId=${ORG_B}`);
        expect(forB.body).toContainEqual({
          slug: 'beta',
          live: true,
          rule: 'organization-target-on',
          drift: false,
        });
      } finally {
        await t.close();
      }
    });

    it('fails closed while live flags are unavailable, unless the route opts into the claim', async () => {
      emulator.fault('sdk-flags', { status: 500 });
      const t = await startFreshApp(platform, emulator, {
        flags: { live: { pollingIntervalMs: 5000 } },
      });
      try {
        const cookie = await cookieFor(ALICE, ORG_B);
        const res = await request(t.server).get('/beta-fresh').set('Cookie', cookie);
        expect(res.status).toBe(503);
        expect(res.body).toMatchObject({ reason: 'FLAGS_UNAVAILABLE' });
        expect(res.headers['retry-after']).toBe('1');
        expect(await status(t, '/beta-fresh-or-claim', cookie)).toBe(200);
        expect(await status(t, '/beta', cookie)).toBe(200);
      } finally {
        await t.close();
      }
    });

    it('a route using fresh turns live flags on by itself', async () => {
      const t = await startFreshApp(platform, emulator, {});
      try {
        const cookie = await cookieFor(ALICE, ORG_B);
        expect(await status(t, '/beta-fresh', cookie)).toBe(200);
        expect(emulator.calls.sdkFlags).toBeGreaterThan(0);
      } finally {
        await t.close();
      }
    });
  });

  it('every decision reaches a custom audit sink, with no token in it', async () => {
    const decisions: FlagDecision[] = [];
    const t = await startFreshApp(platform, emulator, {
      audit: { record: (d) => d.event === 'flag_decision' && decisions.push(d) },
    });
    try {
      const session = await emulator.createSession({ userId: ALICE, organizationId: ORG_A });
      const cookie = `wos-session=${emulator.sealSession(session, COOKIE_PASSWORD)}`;
      await request(t.server).get('/beta?x=secret-query').set('Cookie', cookie);
      expect(decisions).toHaveLength(1);
      expect(decisions[0]).toMatchObject({
        event: 'flag_decision',
        allowed: false,
        flags: ['beta'],
        missing: ['beta'],
        source: 'claim',
        sid: session.sessionId,
        user: ALICE,
        org: ORG_A,
        route: 'FreshnessController.beta',
        path: '/beta',
      });
      const text = JSON.stringify(decisions);
      expect(text).not.toContain(session.accessToken);
      expect(text).not.toContain(session.refreshToken);
      expect(text).not.toContain('secret-query');
    } finally {
      await t.close();
    }
  });

  it('FlagService.invalidate() moves the watermark: cookie sessions refresh once, a Bearer token must (live flags not polled since)', async () => {
    const t = await startFreshApp(platform, emulator, {});
    try {
      const cookie = await cookieFor(ALICE, ORG_A);
      const bearer = (await emulator.createSession({ userId: ALICE, organizationId: ORG_A }))
        .accessToken;
      emulator.setFlag('beta', { orgRule: 'all' });
      t.flags.invalidate('test');
      const before = emulator.calls.refresh;
      const first = await request(t.server).get('/beta').set('Cookie', cookie);
      expect(first.status).toBe(200);
      expect(emulator.calls.refresh - before).toBe(1);
      // The rotated cookie is fresh although its iat (whole seconds) may share the change's
      // second: the resolver knows when its exchange started.
      const rotated = `wos-session=${sessionCookieFrom(first) ?? ''}`;
      for (let i = 0; i < 5; i++) expect(await status(t, '/beta', rotated)).toBe(200);
      expect(emulator.calls.refresh - before).toBe(1);
      const res = await request(t.server).get('/beta').set('Authorization', `Bearer ${bearer}`);
      expect(res.status).toBe(401);
      expect(res.body).toMatchObject({ reason: 'STALE_CLAIMS' });
      expect(res.headers['www-authenticate']).toMatch(/invalid_token/);
    } finally {
      await t.close();
    }
  });
});
