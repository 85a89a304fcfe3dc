import { Controller, Get, type Type } from '@nestjs/common';
import { metrics } from '@opentelemetry/api';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { createServer, type AddressInfo } from 'node:net';
import request from 'supertest';
import {
  FlagService,
  RequireFlag,
  SessionService,
  type AuthKitModuleExtras,
  type AuthKitModuleOptions,
  type Store,
} from '../../lib/index.js';
import { seal } from '../../lib/session/iron.js';
import { MemoryStore } from '../../lib/store/memory.store.js';
import type { WorkOSEmulator } from '../../lib/testing/index.js';
import {
  COOKIE_PASSWORD,
  sessionCookieFrom,
  startApp,
  type TestApp,
} from './support/app.fixture.js';
import { ALICE, CAROL, ORG_A, ORG_B, startSeededEmulator } from './support/seed.js';

const REFRESHES = 'authkit_session_refreshes_total';
const FALLBACKS = 'authkit_store_fallbacks_total';
const DRIFT = 'authkit_flag_drift_total';
const DECISIONS = 'authkit_flag_decisions_total';
const CONFIG_AGE = 'authkit_live_flags_config_age';

/** A route deciding from the live configuration (it turns live flags on by itself). */
@Controller('live')
class LiveController {
  @Get('beta')
  @RequireFlag('beta', { fresh: true })
  beta() {
    return { ok: true };
  }
}

/** A real SDK MeterProvider whose PrometheusExporter serves the text exposition on loopback. */
interface Prometheus {
  meterProvider: MeterProvider;
  scrape(): Promise<string>;
  close(): Promise<void>;
}

async function startPrometheus(): Promise<Prometheus> {
  // The exporter takes port 0 for its default (9464): ask the OS for a free port instead, and
  // try another should someone take it in between.
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    let exporter: PrometheusExporter | undefined;
    const error = await new Promise<Error | void>((resolve) => {
      exporter = new PrometheusExporter(
        { host: '127.0.0.1', port, preventServerStart: false },
        resolve,
      );
    });
    if (!exporter) throw new Error('PrometheusExporter did not start');
    if (error) {
      await exporter.shutdown();
      if (attempt < 3) continue;
      throw error;
    }
    const meterProvider = new MeterProvider({ readers: [exporter] });
    return {
      meterProvider,
      scrape: async () => {
        const res = await fetch(`http://127.0.0.1:${port}/metrics`);
        if (!res.ok) throw new Error(`scrape answered ${res.status}`);
        return res.text();
      },
      close: () => meterProvider.shutdown(),
    };
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/**
 * One metric's samples in a text exposition: its labels (without OpenTelemetry's scope labels,
 * in the order written) → value.
 */
function samples(text: string, name: string): Record<string, number> {
  const found: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)/.exec(line);
    if (!match || match[1] !== name) continue;
    const labels = (match[2] ?? '')
      .split(',')
      .filter((label) => label !== '' && !label.startsWith('otel_scope_'))
      .join(',');
    found[labels] = Number(match[3]);
  }
  return found;
}

/** Every AuthKit sample (no `# HELP` / `# TYPE` lines) in a text exposition. */
function authkitSamples(text: string): string[] {
  return text.split('\n').filter((line) => line.startsWith('authkit_'));
}

/** A store whose every call fails, as a Redis that went away does (subscribing still works). */
class UnreachableStore implements Store {
  readonly prefix = 'metrics-test:';
  private readonly channels = new MemoryStore();
  constructor(readonly shared: boolean) {}
  setIfAbsent(): Promise<boolean> {
    return Promise.reject(new Error('store unreachable (test)'));
  }
  get(): Promise<string | undefined> {
    return Promise.reject(new Error('store unreachable (test)'));
  }
  set(): Promise<void> {
    return Promise.reject(new Error('store unreachable (test)'));
  }
  delete(): Promise<void> {
    return Promise.reject(new Error('store unreachable (test)'));
  }
  publish(): Promise<void> {
    return Promise.reject(new Error('store unreachable (test)'));
  }
  subscribe(channel: string, listener: (message: string) => void): Promise<() => void> {
    return this.channels.subscribe(channel, listener);
  }
}

describe('OpenTelemetry metrics, scraped from a Prometheus exporter (express)', () => {
  let emulator: WorkOSEmulator;
  let prometheus: Prometheus;
  let t: TestApp | undefined;

  beforeEach(async () => {
    emulator = await startSeededEmulator();
    prometheus = await startPrometheus();
  });
  afterEach(async () => {
    await t?.close();
    t = undefined;
    await prometheus.close();
    await emulator.close();
  });

  async function start(
    options: Partial<AuthKitModuleOptions> & AuthKitModuleExtras = {},
    extraControllers: Array<Type<unknown>> = [],
  ): Promise<TestApp> {
    t = await startApp(
      'express',
      emulator,
      { metrics: { meterProvider: prometheus.meterProvider }, ...options },
      extraControllers,
    );
    return t;
  }

  async function cookieFor(
    userId: string,
    organizationId: string,
    times: { accessTokenExpiresIn?: number; issuedSecondsAgo?: number } = {},
  ): Promise<string> {
    const session = await emulator.createSession({ userId, organizationId, ...times });
    return `wos-session=${emulator.sealSession(session, COOKIE_PASSWORD)}`;
  }

  const get = (app: TestApp, path: string, cookie: string) =>
    request(app.server).get(path).set('Cookie', cookie);

  /** A Bearer token claiming `beta` in ORG_A, where the live rule (Some: ORG_B) says no. */
  async function driftingToken(): Promise<string> {
    const now = Math.floor(Date.now() / 1000);
    return emulator.signAccessToken({
      iss: emulator.issuer,
      sub: ALICE,
      sid: 'session_metrics_drift',
      org_id: ORG_A,
      iat: now,
      exp: now + 300,
      feature_flags: ['beta'],
    });
  }

  it('a malformed metrics option stops the boot, naming the fix', async () => {
    await expect(
      start({ metrics: { meterProvider: {} as unknown as MeterProvider } }),
    ).rejects.toThrow(
      /metrics must be true .* or \{ meterProvider \} with an OpenTelemetry MeterProvider/,
    );
  });

  describe('authkit.session.refreshes', () => {
    it('cause expiry, result ok: an expired token and one due, each refreshed once however many requests carry it', async () => {
      const app = await start();
      const expired = await cookieFor(ALICE, ORG_B, { accessTokenExpiresIn: -120 });
      const burst = await Promise.all([1, 2, 3].map(() => get(app, '/guarded', expired)));
      expect(burst.map((res) => res.status)).toEqual([200, 200, 200]);
      expect(emulator.calls.refresh).toBe(1);
      expect(samples(await prometheus.scrape(), REFRESHES)).toEqual({
        'cause="expiry",result="ok"': 1,
      });

      // Still valid but within the refresh buffer (30 s for a 5-minute token): due.
      const due = await cookieFor(ALICE, ORG_B, {
        issuedSecondsAgo: 280,
        accessTokenExpiresIn: 20,
      });
      const res = await get(app, '/guarded', due);
      expect(res.status).toBe(200);
      expect(sessionCookieFrom(res)).toBeTruthy();
      const text = await prometheus.scrape();
      expect(samples(text, REFRESHES)).toEqual({ 'cause="expiry",result="ok"': 2 });
      // Live flags are off: the config-age gauge observes nothing.
      expect(samples(text, CONFIG_AGE)).toEqual({});
    });

    it('cause flag_change: exactly one refresh after FlagService.invalidate(), none before or after', async () => {
      const app = await start();
      const cookie = await cookieFor(ALICE, ORG_B);
      expect((await get(app, '/flags/beta', cookie)).status).toBe(200);
      expect(samples(await prometheus.scrape(), REFRESHES)).toEqual({});

      app.app.get(FlagService).invalidate('metrics test');
      const res = await get(app, '/flags/beta', cookie);
      expect(res.status).toBe(200);
      const renewed = `wos-session=${sessionCookieFrom(res)}`;
      expect((await get(app, '/flags/beta', renewed)).status).toBe(200);
      expect(samples(await prometheus.scrape(), REFRESHES)).toEqual({
        'cause="flag_change",result="ok"': 1,
      });
    });

    it('cause access_change: exactly one refresh after SessionService.invalidate()', async () => {
      const app = await start();
      const cookie = await cookieFor(ALICE, ORG_B);
      expect((await get(app, '/flags/beta', cookie)).status).toBe(200);
      app.app.get(SessionService).invalidate({ users: [ALICE] }, 'role changed');
      expect((await get(app, '/flags/beta', cookie)).status).toBe(200);
      expect(samples(await prometheus.scrape(), REFRESHES)).toEqual({
        'cause="access_change",result="ok"': 1,
      });
    });

    it('cause max_age: a token older than tokens.maxClaimAge, refreshed once', async () => {
      const app = await start({ tokens: { maxClaimAge: 30 } });
      const old = await cookieFor(ALICE, ORG_B, { issuedSecondsAgo: 60 });
      expect((await get(app, '/guarded', old)).status).toBe(200);
      expect(samples(await prometheus.scrape(), REFRESHES)).toEqual({
        'cause="max_age",result="ok"': 1,
      });
    });

    it('cause explicit: SessionService.refresh() and switchOrganization()', async () => {
      const app = await start();
      const cookie = await cookieFor(ALICE, ORG_B);
      const refreshed = await request(app.server).post('/me/refresh').set('Cookie', cookie);
      expect(refreshed.body).toEqual({ organizationId: ORG_B });
      const switched = await request(app.server)
        .post('/me/switch')
        .set('Cookie', `wos-session=${sessionCookieFrom(refreshed)}`)
        .send({ organizationId: ORG_A });
      expect(switched.body).toEqual({ organizationId: ORG_A });
      expect(samples(await prometheus.scrape(), REFRESHES)).toEqual({
        'cause="explicit",result="ok"': 2,
      });
    });

    it('result terminal: the session was signed out at WorkOS, so its refresh token is refused', async () => {
      const app = await start();
      const session = await emulator.createSession({
        userId: ALICE,
        organizationId: ORG_B,
        accessTokenExpiresIn: -120,
      });
      const logout = await fetch(
        `${emulator.url}/user_management/sessions/logout?session_id=${session.sessionId}`,
      );
      expect(logout.status).toBe(200);
      const res = await get(
        app,
        '/guarded',
        `wos-session=${emulator.sealSession(session, COOKIE_PASSWORD)}`,
      );
      expect(res.status).toBe(401);
      expect(res.body).toMatchObject({ reason: 'REFRESH_FAILED' });
      expect(samples(await prometheus.scrape(), REFRESHES)).toEqual({
        'cause="expiry",result="terminal"': 1,
      });
    });

    it('result transient: WorkOS unreachable, the session kept, one attempt per failure window', async () => {
      const app = await start();
      const cookie = await cookieFor(ALICE, ORG_B, { accessTokenExpiresIn: -120 });
      emulator.fault('authenticate', { down: true });
      for (let i = 0; i < 2; i++) {
        const res = await get(app, '/guarded', cookie);
        expect(res.status).toBe(503);
        expect(res.body).toMatchObject({ reason: 'REFRESH_UNAVAILABLE' });
      }
      expect(samples(await prometheus.scrape(), REFRESHES)).toEqual({
        'cause="expiry",result="transient"': 1,
      });
    });
  });

  describe('authkit.store.fallbacks', () => {
    it('read, write and delete of a large session, on a store that cannot be reached', async () => {
      const app = await start({ store: new UnreachableStore(false), largeSessions: 'store' });

      // A reference cookie: its session is in the store, which cannot be read.
      const reference = `wos-session=${seal({ v: 1, ref: 'r'.repeat(43) }, COOKIE_PASSWORD)}`;
      const read = await get(app, '/guarded', reference);
      expect(read.status).toBe(503);
      expect(read.body).toMatchObject({ reason: 'STORE_UNAVAILABLE' });
      expect(samples(await prometheus.scrape(), FALLBACKS)).toEqual({ 'operation="read"': 1 });

      // Carol's session in ORG_A holds 200 permissions: too large for a cookie, it must be
      // written to the store; the old cookie is kept.
      const small = await cookieFor(CAROL, ORG_B);
      const write = await request(app.server)
        .post('/me/switch')
        .set('Cookie', small)
        .send({ organizationId: ORG_A });
      expect(write.body).toEqual({ failure: 'STORE_UNAVAILABLE' });
      expect(samples(await prometheus.scrape(), FALLBACKS)).toEqual({
        'operation="read"': 1,
        'operation="write"': 1,
      });

      // Signing out forgets the stored session: best effort. Resolving the request and reading
      // its sid each try the store once more.
      const signOut = await request(app.server).post('/me/sign-out').set('Cookie', reference);
      expect(signOut.status).toBe(200);
      expect(samples(await prometheus.scrape(), FALLBACKS)).toEqual({
        'operation="read"': 3,
        'operation="write"': 1,
        'operation="delete"': 1,
      });
    });

    it('broadcast, refresh_lock and refresh_result on a shared store that cannot be reached', async () => {
      const app = await start({ store: new UnreachableStore(true) });
      app.app.get(FlagService).invalidate('metrics test');
      expect(samples(await prometheus.scrape(), FALLBACKS)).toEqual({
        'operation="broadcast"': 1,
      });

      // Nobody was seen holding the lock: this instance refreshes alone, and cannot tell the
      // others (that store write is not awaited by the request). Seen for the first time, the
      // session could not be checked against the store's revocations: let in, counted.
      const expired = await cookieFor(ALICE, ORG_B, { accessTokenExpiresIn: -120 });
      expect((await get(app, '/guarded', expired)).status).toBe(200);
      const expected = {
        'operation="broadcast"': 1,
        'operation="refresh_lock"': 1,
        'operation="refresh_result"': 1,
        'operation="revocation"': 1,
      };
      let text = await prometheus.scrape();
      for (const deadline = Date.now() + 5000; Date.now() < deadline;) {
        if (samples(text, FALLBACKS)['operation="refresh_result"'] !== undefined) break;
        text = await prometheus.scrape();
      }
      expect(samples(text, FALLBACKS)).toEqual(expected);
      expect(samples(text, REFRESHES)).toEqual({ 'cause="expiry",result="ok"': 1 });
    });
  });

  describe('live flags', () => {
    it('authkit.flag.drift counts a disagreement once per (flag, organization, token); config_age is the last good poll', async () => {
      const bootedAt = Date.now();
      const app = await start({ flags: { live: { pollingIntervalMs: 5000 } } }, [LiveController]);
      const bearer = `Bearer ${await driftingToken()}`;
      const claim = await request(app.server).get('/flags/beta').set('Authorization', bearer);
      expect(claim.status).toBe(200);
      for (let i = 0; i < 2; i++) {
        const live = await request(app.server).get('/live/beta').set('Authorization', bearer);
        expect(live.status).toBe(403);
      }
      const text = await prometheus.scrape();
      expect(samples(text, DRIFT)).toEqual({ 'flag="beta"': 1 });
      const age = samples(text, CONFIG_AGE);
      expect(Object.keys(age)).toEqual(['']);
      expect(age['']).toBeGreaterThanOrEqual(0);
      expect(age['']).toBeLessThanOrEqual((Date.now() - bootedAt) / 1000);
    });

    // Needs FlagGuard to call AuthKitMetrics.flagDecision(source, allowed) for each requirement.
    it('authkit.flag.decisions by source and outcome', async () => {
      const app = await start({ flags: { live: { pollingIntervalMs: 5000 } } }, [LiveController]);
      expect((await get(app, '/flags/beta', await cookieFor(ALICE, ORG_B))).status).toBe(200);
      expect((await get(app, '/flags/beta', await cookieFor(ALICE, ORG_A))).status).toBe(403);
      expect((await get(app, '/live/beta', await cookieFor(ALICE, ORG_B))).status).toBe(200);
      expect((await get(app, '/live/beta', await cookieFor(ALICE, ORG_A))).status).toBe(403);
      expect((await get(app, '/live/beta', await cookieFor(ALICE, ORG_A))).status).toBe(403);
      expect(samples(await prometheus.scrape(), DECISIONS)).toEqual({
        'source="claim",outcome="allowed"': 1,
        'source="claim",outcome="denied"': 1,
        'source="live",outcome="allowed"': 1,
        'source="live",outcome="denied"': 2,
      });
    });
  });

  describe('the global MeterProvider', () => {
    beforeEach(() => {
      metrics.setGlobalMeterProvider(prometheus.meterProvider);
    });
    afterEach(() => metrics.disable());

    /** A drift, an expired-cookie refresh, a flag change on a failing shared store. */
    async function exercise(app: TestApp): Promise<void> {
      // First: after a flag change, live answers wait for the next poll.
      const bearer = `Bearer ${await driftingToken()}`;
      const live = await request(app.server).get('/live/beta').set('Authorization', bearer);
      expect(live.status).toBe(403);
      const expired = await cookieFor(ALICE, ORG_B, { accessTokenExpiresIn: -120 });
      expect((await get(app, '/guarded', expired)).status).toBe(200);
      app.app.get(FlagService).invalidate('metrics test');
    }

    /** An app on the global provider: `metrics` left out, or as given. */
    function startOnGlobal(metricsOption?: false): Promise<TestApp> {
      return startApp(
        'express',
        emulator,
        {
          ...(metricsOption === undefined ? {} : { metrics: metricsOption }),
          flags: { live: { pollingIntervalMs: 5000 } },
          store: new UnreachableStore(true),
        },
        [LiveController],
      );
    }

    it('left out, metrics go to the global provider; a closed app is no longer read', async () => {
      t = await startOnGlobal();
      await exercise(t);
      let text = await prometheus.scrape();
      expect(samples(text, REFRESHES)).toEqual({ 'cause="expiry",result="ok"': 1 });
      expect(samples(text, FALLBACKS)).toMatchObject({ 'operation="broadcast"': 1 });
      expect(samples(text, DRIFT)).toEqual({ 'flag="beta"': 1 });
      const age = samples(text, CONFIG_AGE);
      expect(Object.keys(age)).toEqual(['']);

      // The provider outlives the app: a closed app's client is no longer read (the SDK keeps
      // reporting the last value observed; read again, it would have grown meanwhile).
      await t.close();
      t = undefined;
      text = await prometheus.scrape();
      expect(samples(text, CONFIG_AGE)).toEqual(age);
      expect(samples(text, REFRESHES)).toEqual({ 'cause="expiry",result="ok"': 1 });
    });

    it('metrics: false records nothing, on a provider the default records to', async () => {
      t = await startOnGlobal(false);
      await exercise(t);
      expect(authkitSamples(await prometheus.scrape())).toEqual([]);
      await t.close();

      // The same provider and the same requests, with metrics left out: recorded.
      t = await startOnGlobal();
      await exercise(t);
      expect(samples(await prometheus.scrape(), REFRESHES)).toEqual({
        'cause="expiry",result="ok"': 1,
      });
    });
  });
});
