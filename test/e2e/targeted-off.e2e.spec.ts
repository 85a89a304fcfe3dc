import { Controller, Get, Query } from '@nestjs/common';
import { WorkOS } from '@workos-inc/node';
import { decodeJwt } from 'jose';
import request from 'supertest';
import { FlagService, RequireFlag } from '../../lib/index.js';
import type { WorkOSEmulator } from '../../lib/testing/index.js';
import { COOKIE_PASSWORD, startApp, type Platform, type TestApp } from './support/app.fixture.js';
import { ALICE, BOB, ORG_A, ORG_B, startSeededEmulator } from './support/seed.js';

@Controller('sensitive')
class SensitiveController {
  constructor(private readonly flags: FlagService) {}

  /** A sensitive action re-checked live: the claim may predate the target. */
  @Get()
  @RequireFlag('beta', { fresh: true })
  act() {
    return { ok: true };
  }

  @Get('explain')
  explain(@Query('userId') userId: string, @Query('organizationId') organizationId: string) {
    return this.flags.explain({ userId, organizationId }).find((e) => e.slug === 'beta');
  }
}

/*
 * `beta` is on for everyone (rule All, default_value true) except Bob, targeted off, and
 * ORG_B, targeted off; Alice is also targeted on, which ORG_B's off target outweighs.
 * SDK 11's evaluator skips targets serving false, so it let all of them through.
 */
describe.each<Platform>(['express', 'fastify'])('targets serving false on %s', (platform) => {
  let emulator: WorkOSEmulator;
  let t: TestApp | undefined;

  beforeEach(async () => {
    emulator = await startSeededEmulator();
    emulator.setFlag('beta', {
      orgRule: 'all',
      users: [ALICE],
      usersOff: [BOB],
      organizationsOff: [ORG_B],
    });
  });
  afterEach(async () => {
    await t?.close();
    t = undefined;
    await emulator.close();
  });

  async function session(userId: string, organizationId: string) {
    const created = await emulator.createSession({ userId, organizationId });
    return {
      cookie: `wos-session=${emulator.sealSession(created, COOKIE_PASSWORD)}`,
      claim: decodeJwt(created.accessToken).feature_flags,
    };
  }

  /** A token issued before Bob was targeted off: its claim still has the flag. */
  async function staleBearer(userId: string, organizationId: string) {
    const now = Math.floor(Date.now() / 1000);
    return emulator.signAccessToken({
      iss: emulator.issuer,
      sub: userId,
      sid: `session_stale_${userId}`,
      org_id: organizationId,
      iat: now,
      exp: now + 300,
      feature_flags: ['beta'],
    });
  }

  /** The sensitive action, as the holder of `cookie`. */
  const act = (cookie: string) => request(t!.server).get('/sensitive').set('Cookie', cookie);

  /** `FlagService.explain()` of beta for (userId, organizationId), asked with `cookie`. */
  async function explainBeta(cookie: string, userId: string, organizationId: string) {
    const res = await request(t!.server)
      .get('/sensitive/explain')
      .query({ userId, organizationId })
      .set('Cookie', cookie);
    return res.body as unknown;
  }

  it('a fresh route refuses a user targeted off under a default-on flag, and the emulator’s claim lacks the flag', async () => {
    t = await startApp(platform, emulator, {}, [SensitiveController]);
    const bob = await session(BOB, ORG_A);
    const refused = await act(bob.cookie);
    expect([bob.claim, refused.status]).toEqual([expect.not.arrayContaining(['beta']), 403]);
    expect(refused.body).toMatchObject({ reason: 'FLAG_DISABLED', source: 'live' });
    const bearer = await request(t.server)
      .get('/sensitive')
      .set('Authorization', `Bearer ${await staleBearer(BOB, ORG_A)}`);
    expect(bearer.status).toBe(403);

    const alice = await session(ALICE, ORG_A);
    expect(alice.claim).toContain('beta');
    expect((await act(alice.cookie)).status).toBe(200);
    expect(await explainBeta(alice.cookie, BOB, ORG_A)).toEqual({
      slug: 'beta',
      live: false,
      rule: 'user-target-off',
      drift: false,
    });
    expect(await explainBeta(alice.cookie, ALICE, ORG_A)).toMatchObject({
      live: true,
      rule: 'user-target-on',
    });
  });

  it('an organization targeted off outweighs a user targeted on', async () => {
    t = await startApp(platform, emulator, {}, [SensitiveController]);
    const aliceB = await session(ALICE, ORG_B);
    expect(aliceB.claim).not.toContain('beta');
    expect((await act(aliceB.cookie)).status).toBe(403);
    expect(await explainBeta(aliceB.cookie, ALICE, ORG_B)).toEqual({
      slug: 'beta',
      claim: false,
      live: false,
      rule: 'organization-target-off',
      drift: false,
    });
  });

  it("flags.live.evaluator 'sdk' gives the installed SDK's answer: SDK 11 lets the stale token through, 10.6 (the oldest in the peer range) and 12 do not", async () => {
    t = await startApp(platform, emulator, { flags: { live: { evaluator: 'sdk' } } }, [
      SensitiveController,
    ]);
    const major = Number(new WorkOS(emulator.apiKey, emulator.connection()).version.split('.')[0]);
    const res = await request(t.server)
      .get('/sensitive')
      .set('Authorization', `Bearer ${await staleBearer(BOB, ORG_A)}`);
    // Read off the CI matrix: only SDK 11's runtime client fails open here.
    expect([major, res.status]).toEqual([major, major === 11 ? 200 : 403]);
  });
});
