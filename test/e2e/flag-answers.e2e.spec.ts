import { Controller, Get, Param } from '@nestjs/common';
import { decodeJwt } from 'jose';
import request from 'supertest';
import { FlagService, RequireFlag, type FlagDecision } from '../../lib/index.js';
import type { WorkOSEmulator } from '../../lib/testing/index.js';
import { COOKIE_PASSWORD, startApp, type Platform, type TestApp } from './support/app.fixture.js';
import { ALICE, ORG_A, ORG_B, startSeededEmulator } from './support/seed.js';

const EXPORT = 'workspace-export';

/** Every way a handler can ask about flags, side by side. */
@Controller('answers')
class AnswersController {
  constructor(private readonly flags: FlagService) {}

  @Get()
  answers() {
    return {
      beta: this.flags.isEnabled('beta'),
      all: this.flags.getAll(),
      source: this.flags.currentSource(),
      evaluation: this.flags.evaluate('beta'),
      orClaim: this.flags.evaluate('beta', { fresh: { onUnavailable: 'claim' } }),
    };
  }

  @Get('gated')
  @RequireFlag('beta')
  gated() {
    return this.answers();
  }
}

/** A flag targeted per workspace: WorkOS never writes custom targets into the claim. */
@Controller('w')
class WorkspaceController {
  constructor(private readonly flags: FlagService) {}

  @Get(':ws/export')
  @RequireFlag(EXPORT, {
    targets: (_session, req) => ({
      workspace: { id: (req as unknown as { params: { ws: string } }).params.ws },
    }),
  })
  export() {
    return { ok: true };
  }

  @Get(':ws/check')
  check(@Param('ws') ws: string) {
    const targets = { workspace: { id: ws } };
    return {
      enabled: this.flags.isEnabled(EXPORT, { targets }),
      answer: this.flags.evaluate(EXPORT, { targets }),
      explained: this.flags
        .explain({ userId: ALICE, organizationId: ORG_A, targets })
        .find((e) => e.slug === EXPORT),
    };
  }
}

/** Resolves at the next recorded flag change. */
function nextChange(flags: FlagService): Promise<void> {
  return new Promise((resolve) => {
    const stop = flags.onChange(() => {
      stop();
      resolve();
    });
  });
}

describe.each<Platform>(['express', 'fastify'])('flag answers on %s', (platform) => {
  let emulator: WorkOSEmulator;
  let t: TestApp | undefined;
  let decisions: FlagDecision[];

  beforeEach(async () => {
    emulator = await startSeededEmulator();
    decisions = [];
  });
  afterEach(async () => {
    await t?.close();
    t = undefined;
    await emulator.close();
  });

  const start = (live: boolean) =>
    startApp(
      platform,
      emulator,
      {
        audit: { record: (d) => d.event === 'flag_decision' && decisions.push(d) },
        ...(live ? { flags: { live: { pollingIntervalMs: 5000 } } } : {}),
      },
      [AnswersController, WorkspaceController],
    );

  async function cookieFor(userId: string, organizationId: string) {
    const created = await emulator.createSession({ userId, organizationId });
    return {
      cookie: `wos-session=${emulator.sealSession(created, COOKIE_PASSWORD)}`,
      claim: decodeJwt(created.accessToken).feature_flags,
    };
  }

  /** A Bearer token for Alice in ORG_B whose claim holds beta, as issued now. */
  function bearer(): Promise<string> {
    const now = Math.floor(Date.now() / 1000);
    return emulator.signAccessToken({
      iss: emulator.issuer,
      sub: ALICE,
      sid: 'session_answers_alice',
      org_id: ORG_B,
      iat: now,
      exp: now + 300,
      feature_flags: ['beta'],
    });
  }

  const get = (path: string, token: string) =>
    request(t!.server).get(path).set('Authorization', `Bearer ${token}`);

  describe('custom targets', () => {
    beforeEach(() => {
      emulator.setFlag(EXPORT, {
        enabled: true,
        orgRule: 'none',
        customTargets: [
          { type: 'workspace', id: 'ws_on', enabled: true },
          { type: 'workspace', id: 'ws_off', enabled: false },
        ],
      });
    });

    it('a custom-target-only flag is decided live from the request’s targets, and audited with them', async () => {
      t = await start(true);
      const alice = await cookieFor(ALICE, ORG_A);
      const statuses: Record<string, number> = {};
      for (const ws of ['ws_on', 'ws_off', 'ws_other']) {
        const res = await request(t.server).get(`/w/${ws}/export`).set('Cookie', alice.cookie);
        statuses[ws] = res.status;
        if (res.status === 403) expect(res.body).toMatchObject({ source: 'live', flags: [EXPORT] });
      }
      expect([alice.claim, statuses]).toEqual([
        expect.not.arrayContaining([EXPORT]),
        { ws_on: 200, ws_off: 403, ws_other: 403 },
      ]);
      expect(decisions.map((d) => [d.targets, d.allowed, d.source])).toEqual([
        [{ workspace: { id: 'ws_on' } }, true, 'live'],
        [{ workspace: { id: 'ws_off' } }, false, 'live'],
        [{ workspace: { id: 'ws_other' } }, false, 'live'],
      ]);
    });

    it('FlagService answers and explains the same targets the same way', async () => {
      t = await start(true);
      const { cookie } = await cookieFor(ALICE, ORG_A);
      const check = async (ws: string) =>
        (await request(t!.server).get(`/w/${ws}/check`).set('Cookie', cookie)).body as unknown;
      expect(await check('ws_on')).toEqual({
        enabled: true,
        answer: expect.objectContaining({
          value: true,
          source: 'live',
          rule: 'custom-target-on',
        }) as unknown,
        // The claim never holds a custom target: not drift.
        explained: {
          slug: EXPORT,
          claim: false,
          live: true,
          rule: 'custom-target-on',
          drift: false,
        },
      });
      expect(await check('ws_off')).toMatchObject({
        enabled: false,
        answer: { value: false, rule: 'custom-target-off' },
      });
    });

    it('without live flags the targets cannot be evaluated: 503, and FlagService says why', async () => {
      emulator.fault('sdk-flags', { status: 500 });
      t = await start(true);
      const { cookie } = await cookieFor(ALICE, ORG_A);
      const refused = await request(t.server).get('/w/ws_on/export').set('Cookie', cookie);
      expect([refused.status, refused.body]).toEqual([
        503,
        expect.objectContaining({ reason: 'FLAGS_UNAVAILABLE' }),
      ]);
      const checked = await request(t.server).get('/w/ws_on/check').set('Cookie', cookie);
      expect(checked.body).toMatchObject({
        enabled: false,
        answer: { value: false, source: 'none', reason: 'FLAGS_UNAVAILABLE' },
      });
    });
  });

  describe('one answer per request', () => {
    it('a stale Bearer token: guard and FlagService both decide live', async () => {
      t = await start(true);
      const token = await bearer();
      const before = await get('/answers/gated', token);
      expect(before.body).toMatchObject({ beta: true, source: 'claim' });

      const changed = nextChange(t.app.get(FlagService));
      emulator.setFlag('beta', { usersOff: [ALICE] });
      await changed;

      const gated = await get('/answers/gated', token);
      expect([gated.status, gated.body]).toEqual([
        403,
        expect.objectContaining({ reason: 'FLAG_DISABLED', source: 'live' }),
      ]);
      const answers = await get('/answers', token);
      expect(answers.body).toEqual({
        beta: false,
        all: [],
        source: 'live',
        evaluation: {
          slug: 'beta',
          value: false,
          source: 'live',
          rule: 'user-target-off',
          stale: true,
          iat: expect.any(Number) as unknown,
        },
        orClaim: expect.objectContaining({ value: false, source: 'live' }) as unknown,
      });
    }, 20_000);

    it('a stale Bearer token without live flags: refused by the guard, no answer from FlagService', async () => {
      t = await start(false);
      const token = await bearer();
      t.app.get(FlagService).invalidate({ users: [ALICE] }, 'test');

      const gated = await get('/answers/gated', token);
      expect([gated.status, gated.body]).toEqual([
        401,
        expect.objectContaining({ reason: 'STALE_CLAIMS' }),
      ]);
      const answers = await get('/answers', token);
      expect(answers.body).toEqual({
        beta: false,
        all: [],
        source: 'none',
        evaluation: expect.objectContaining({
          value: false,
          source: 'none',
          reason: 'STALE_CLAIMS',
          stale: true,
        }) as unknown,
        // Asked for: the stale claim, said to be stale.
        orClaim: expect.objectContaining({
          value: true,
          source: 'claim',
          reason: 'STALE_CLAIMS',
          stale: true,
        }) as unknown,
      });
    });

    it('without a session every answer is the default', async () => {
      t = await start(false);
      const res = await request(t.server).get('/answers');
      expect(res.body).toEqual({
        beta: false,
        all: [],
        source: 'none',
        evaluation: {
          slug: 'beta',
          value: false,
          source: 'none',
          reason: 'NO_SESSION',
          stale: false,
        },
        orClaim: { slug: 'beta', value: false, source: 'none', reason: 'NO_SESSION', stale: false },
      });
    });
  });
});
