import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  exportJWK,
  exportSPKI,
  generateKeyPair,
  importJWK,
  SignJWT,
  UnsecuredJWT,
  type JWK,
} from 'jose';
import request from 'supertest';
import { seal } from '../../lib/session/iron.js';

type SigningKey = Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];
import type { WorkOSEmulator } from '../../lib/testing/index.js';
import {
  COOKIE_PASSWORD,
  honourRetryAfter,
  setCookies,
  startApp,
  type Platform,
  type TestApp,
} from './support/app.fixture.js';
import { ALICE, ORG_B, startSeededEmulator } from './support/seed.js';

/**
 * ../shared/SECURITY.md, one row per case: every bad input is a 401 with a reason, never a
 * 5xx, never an upstream refresh, never a secret in the logs. Each bad token is tried as a
 * Bearer token and inside a correctly sealed cookie (with a live refresh token, so a wrongly
 * accepted "expired" token would show up as a refresh).
 */
// Both places the RSA check can run (threadpool by default, inline on request) see every row.
describe.each<[Platform, boolean]>([
  ['express', true],
  ['fastify', true],
  ['express', false],
  ['fastify', false],
])('bad input (SECURITY.md) on %s, verifyOnThreadPool %s', (platform, verifyOnThreadPool) => {
  let emulator: WorkOSEmulator;
  let t: TestApp;
  let kid: string;
  let attacker: { privateKey: SigningKey; publicJwk: JWK };
  let jku: { server: Server; url: string; hits: number };
  const secrets: string[] = [];

  const now = () => Math.floor(Date.now() / 1000);
  const claims = (extra: Record<string, unknown> = {}) => ({
    iss: emulator.issuer,
    sub: ALICE,
    sid: 'session_01BADINPUT',
    org_id: ORG_B,
    feature_flags: ['beta'],
    iat: now(),
    exp: now() + 300,
    ...extra,
  });

  beforeAll(async () => {
    emulator = await startSeededEmulator();
    t = await startApp(platform, emulator, { tokens: { verifyOnThreadPool } });
    const jwks = (await (await fetch(`${emulator.url}/sso/jwks/${emulator.clientId}`)).json()) as {
      keys: JWK[];
    };
    kid = jwks.keys[0]!.kid!;
    const pair = await generateKeyPair('RS256', { extractable: true });
    attacker = { privateKey: pair.privateKey, publicJwk: await exportJWK(pair.publicKey) };
    jku = { server: createServer(), url: '', hits: 0 };
    jku.server.on('request', (_req, res) => {
      jku.hits++;
      res.setHeader('Content-Type', 'application/json');
      res.end(JSON.stringify({ keys: [{ ...attacker.publicJwk, kid, alg: 'RS256' }] }));
    });
    await new Promise<void>((resolve) => jku.server.listen(0, '127.0.0.1', resolve));
    jku.url = `http://127.0.0.1:${(jku.server.address() as AddressInfo).port}/jwks`;
    // Warm the JWKS cache with one good request, so fetch counts below are deltas.
    const good = await emulator.signAccessToken(claims());
    expect((await bearer(good)).status).toBe(200);
  });
  afterAll(async () => {
    await t.close();
    await emulator.close();
    await new Promise((resolve) => jku.server.close(resolve));
  });

  const bearer = (token: string) =>
    request(t.server).get('/flags/beta').set('Authorization', `Bearer ${token}`);

  async function sealedWith(token: string): Promise<string> {
    const live = await emulator.createSession({ userId: ALICE, organizationId: ORG_B });
    secrets.push(live.refreshToken, live.accessToken);
    return seal({ ...live, accessToken: token }, COOKIE_PASSWORD);
  }

  async function expectRejectedEverywhere(token: string, reason = 'INVALID_JWT') {
    secrets.push(token);
    const refreshesBefore = emulator.calls.refresh;
    const viaBearer = await bearer(token);
    expect(viaBearer.status).toBe(401);
    expect(viaBearer.body).toMatchObject({ reason });
    expect(viaBearer.headers['www-authenticate']).toBe('Bearer error="invalid_token"');
    const viaCookie = await request(t.server)
      .get('/flags/beta')
      .set('Cookie', `wos-session=${await sealedWith(token)}`);
    expect(viaCookie.status).toBe(401);
    expect(viaCookie.body).toMatchObject({ reason });
    expect(setCookies(viaCookie)).toEqual([]); // nothing cleared, nothing issued
    expect(emulator.calls.refresh).toBe(refreshesBefore);
  }

  const signWith = (key: SigningKey, header: Record<string, unknown>, body = claims()) =>
    new SignJWT(body).setProtectedHeader({ alg: 'RS256', ...header }).sign(key);

  it('1: alg none with an empty signature', async () => {
    const token = new UnsecuredJWT(claims()).encode();
    await expectRejectedEverywhere(token);
  });

  it('2: HS256 signed with the RSA public key (PEM) as the secret', async () => {
    const jwks = (await (await fetch(`${emulator.url}/sso/jwks/${emulator.clientId}`)).json()) as {
      keys: JWK[];
    };
    const publicKey = await importJWK(jwks.keys[0]!, 'RS256', { extractable: true });
    const pem = await exportSPKI(publicKey as SigningKey);
    const token = await new SignJWT(claims())
      .setProtectedHeader({ alg: 'HS256', kid })
      .sign(new TextEncoder().encode(pem));
    await expectRejectedEverywhere(token);
  });

  it('3: unknown kid, many times: at most one JWKS refetch', async () => {
    const before = emulator.calls.jwks;
    for (let i = 0; i < 10; i++) {
      await expectRejectedEverywhere(await signWith(attacker.privateKey, { kid: `unknown-${i}` }));
    }
    expect(emulator.calls.jwks - before).toBeLessThanOrEqual(1);
  });

  it.each([['../../dev/null'], ["' OR 1=1 --"], ['k'.repeat(1200)]])(
    '4: kid %#: compared for equality only',
    async (weird) => {
      await expectRejectedEverywhere(await signWith(attacker.privateKey, { kid: weird }));
    },
  );

  it('5: attacker key in a jwk header or a jku URL is ignored, never fetched', async () => {
    await expectRejectedEverywhere(
      await signWith(attacker.privateKey, { kid, jwk: attacker.publicJwk }),
    );
    await expectRejectedEverywhere(await signWith(attacker.privateKey, { kid, jku: jku.url }));
    expect(jku.hits).toBe(0);
  });

  it('6: missing or wrong issuer', async () => {
    await expectRejectedEverywhere(
      await emulator.signAccessToken(claims({ iss: 'https://evil.test' })),
    );
    await expectRejectedEverywhere(await emulator.signAccessToken(claims(), { omit: ['iss'] }));
  });

  it("7: another environment's key under the same kid", async () => {
    await expectRejectedEverywhere(await signWith(attacker.privateKey, { kid }));
  });

  it('8: exp within the clock tolerance is still valid; beyond it, Bearer gets EXPIRED_JWT', async () => {
    expect((await bearer(await emulator.signAccessToken(claims({ exp: now() - 5 })))).status).toBe(
      200,
    );
    const expired = await bearer(await emulator.signAccessToken(claims({ exp: now() - 60 })));
    expect(expired.status).toBe(401);
    expect(expired.body.reason).toBe('EXPIRED_JWT');
  });

  it('9: nbf in the future', async () => {
    await expectRejectedEverywhere(await emulator.signAccessToken(claims({ nbf: now() + 600 })));
  });

  it('10: iat in the future', async () => {
    await expectRejectedEverywhere(await emulator.signAccessToken(claims({ iat: now() + 600 })));
  });

  it('11: exp or sid missing, exp a string', async () => {
    await expectRejectedEverywhere(await emulator.signAccessToken(claims(), { omit: ['exp'] }));
    await expectRejectedEverywhere(await emulator.signAccessToken(claims(), { omit: ['sid'] }));
    await expectRejectedEverywhere(
      await emulator.signAccessToken(claims({ exp: String(now() + 300) })),
    );
  });

  it('12: no aud is required (WorkOS tokens carry none)', async () => {
    const token = await emulator.signAccessToken(claims());
    expect(
      JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()),
    ).not.toHaveProperty('aud');
    expect((await bearer(token)).status).toBe(200);
  });

  it('13: truncated or stripped signature, tampered payload, bad base64, wrong segment count, empty', async () => {
    const good = await emulator.signAccessToken(claims());
    const [h, p, s] = good.split('.') as [string, string, string];
    const tampered = Buffer.from(
      JSON.stringify({ ...claims(), feature_flags: ['beta', 'admin'] }),
    ).toString('base64url');
    for (const token of [
      `${h}.${p}.${s.slice(0, -8)}`,
      `${h}.${p}.`,
      `${h}.${tampered}.${s}`,
      `${h}.${p}!!.${s}`,
      `${h}.${p}`,
      `${h}.${p}.${s}.x.y`,
    ]) {
      await expectRejectedEverywhere(token);
    }
    const empty = await request(t.server).get('/flags/beta').set('Authorization', 'Bearer ');
    expect(empty.status).toBe(401);
  });

  it('14: unknown crit header', async () => {
    await expectRejectedEverywhere(
      await emulator.signAccessToken(claims(), { header: { crit: ['x-unknown'], 'x-unknown': 1 } }),
    );
  });

  it('15: oversized cookie or token is rejected before unsealing; huge headers never reach us', async () => {
    const big = await request(t.server)
      .get('/flags/beta')
      .set('Cookie', `wos-session=${'A'.repeat(5 * 1024)}`);
    expect(big.status).toBe(401);
    expect(big.body).toMatchObject({ reason: 'INVALID_SESSION', message: 'cookie too large' });
    // Bearer tokens may be as large as the header limit (16 KiB in Node): refused as garbage.
    const bigBearer = await bearer(
      'a'.repeat(7000) + '.' + 'b'.repeat(7000) + '.' + 'c'.repeat(1200),
    );
    expect(bigBearer.status).toBe(401);
    expect(bigBearer.body).toMatchObject({ reason: 'INVALID_JWT' });
    const huge = await request(t.server)
      .get('/flags/beta')
      .set('Cookie', `wos-session=${'A'.repeat(1024 * 1024)}`)
      .catch((error: Error) => ({ status: 0, error }));
    expect([0, 431]).toContain(huge.status); // Node refuses it (431) or drops the connection
  });

  it('35: a genuine Bearer token of 5–14 KiB (many permissions) is accepted', async () => {
    for (const count of [120, 300]) {
      const permissions = Array.from({ length: count }, (_, i) => `reports:resource-${i}:read`);
      const token = await emulator.signAccessToken(claims({ permissions }));
      expect(token.length).toBeGreaterThan(4096);
      const res = await bearer(token);
      expect([token.length, res.status]).toEqual([token.length, 200]);
    }
  });

  it('16/17: flipped seal bytes, other password → INVALID_SESSION, no refresh', async () => {
    const live = await emulator.createSession({
      userId: ALICE,
      organizationId: ORG_B,
      accessTokenExpiresIn: -120,
    });
    const good = emulator.sealSession(live, COOKIE_PASSWORD);
    const parts = good.split('*');
    parts[4] = (parts[4]![0] === 'A' ? 'B' : 'A') + parts[4]!.slice(1);
    const before = emulator.calls.refresh;
    for (const cookie of [
      parts.join('*'),
      emulator.sealSession(live, 'another-password-that-is-also-32-chars-long'),
    ]) {
      const res = await request(t.server).get('/flags/beta').set('Cookie', `wos-session=${cookie}`);
      expect(res.status).toBe(401);
      expect(res.body.reason).toBe('INVALID_SESSION');
      expect(setCookies(res)).toEqual([]);
    }
    expect(emulator.calls.refresh).toBe(before);
  });

  it('28: WorkOS answers a refresh 200 without tokens → 503, cookie kept, nothing stuck', async () => {
    const session = await emulator.createSession({
      userId: ALICE,
      organizationId: ORG_B,
      accessTokenExpiresIn: -120,
    });
    const cookie = `wos-session=${emulator.sealSession(session, COOKIE_PASSWORD)}`;
    emulator.fault('authenticate', { status: 200, body: { user: { id: ALICE } }, times: 1 });
    const before = emulator.calls.refresh;
    const broken = await request(t.server).get('/flags/beta').set('Cookie', cookie);
    expect(broken.status).toBe(503);
    expect(broken.body).toMatchObject({ reason: 'REFRESH_UNAVAILABLE' });
    expect(setCookies(broken)).toEqual([]);
    // WorkOS is healthy again: once Retry-After has passed, the same cookie refreshes (the
    // in-flight entry was cleared; the failure is remembered only that long).
    await honourRetryAfter(broken);
    const healed = await request(t.server).get('/flags/beta').set('Cookie', cookie);
    expect(healed.status).toBe(200);
    // The broken exchange and the healthy one: no retry storm in between.
    expect(emulator.calls.refresh - before).toBe(2);
    // Unguarded routes were never poisoned either.
    expect((await request(t.server).get('/me').set('Cookie', cookie)).status).toBe(200);
  });

  it('24: no token, refresh token, sealed cookie or Authorization value in any log line', () => {
    const log = t.logger.lines.join('\n');
    expect(log).not.toMatch(/Fe26\.2/);
    for (const secret of secrets) expect(log).not.toContain(secret);
  });
});
