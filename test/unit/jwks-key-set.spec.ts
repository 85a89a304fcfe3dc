import { Logger, type LoggerService } from '@nestjs/common';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { JWKS_TIMINGS, JwksKeySet, usableKeys } from '../../lib/session/jwks.key-set.js';
import { WorkOSEmulator } from '../../lib/testing/index.js';

/** A public RSA JWK of `bits` (node:crypto, so 1024 is allowed here). */
function rsaJwk(bits: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const { publicKey } = generateKeyPairSync('rsa', { modulusLength: bits });
  return { ...publicKey.export({ format: 'jwk' }), alg: 'RS256', use: 'sig', ...extra };
}

describe('usableKeys', () => {
  it('keeps RS256 verification keys by kid and skips everything else', async () => {
    const good = rsaJwk(2048, { kid: 'good' });
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const keys = await usableKeys({
      keys: [
        good,
        { ...rsaJwk(2048), kid: 'no-alg-no-use', alg: undefined, use: undefined },
        rsaJwk(2048), // no kid
        rsaJwk(2048, { kid: 'enc', use: 'enc' }),
        rsaJwk(2048, { kid: 'ps256', alg: 'PS256' }),
        rsaJwk(2048, { kid: 'sign-only', key_ops: ['sign'] }),
        rsaJwk(1024, { kid: 'short' }),
        { ...privateKey.export({ format: 'jwk' }), kid: 'private', alg: 'RS256' },
        { kty: 'EC', crv: 'P-256', kid: 'ec', x: 'x', y: 'y' },
        { kty: 'RSA', kid: 'garbage', n: '!!', e: 'AQAB' },
        rsaJwk(2048, { kid: 'twice' }),
        rsaJwk(2048, { kid: 'twice' }),
        'not an object',
      ],
    });
    expect([...keys.keys()].sort()).toEqual(['good', 'no-alg-no-use']);
    expect((keys.get('good') as KeyObject).type).toBe('public');
  });

  it.each([[null], [[]], [{}], [{ keys: 'x' }], ['text']])('reads %j as no key', async (body) => {
    expect((await usableKeys(body)).size).toBe(0);
  });
});

describe('JwksKeySet against the emulator', () => {
  let emulator: WorkOSEmulator;
  let clock: number;
  let set: JwksKeySet;
  let kid: string;
  const logged: string[] = [];
  const capture = (level: string) => (message: unknown) =>
    logged.push(`${level} ${String(message)}`);
  const logger: LoggerService = {
    log: capture('log'),
    warn: capture('warn'),
    error: capture('error'),
  };

  beforeAll(async () => {
    Logger.overrideLogger(logger);
    emulator = await WorkOSEmulator.start();
  });
  afterAll(() => emulator.close());
  beforeEach(async () => {
    await emulator.rotateKeys();
    kid = JSON.parse(
      Buffer.from((await emulator.signAccessToken({})).split('.')[0]!, 'base64url').toString(),
    ).kid as string;
    clock = 1_000_000;
    set = new JwksKeySet(
      `${emulator.url}/sso/jwks/${emulator.clientId}`,
      2000,
      JWKS_TIMINGS,
      () => clock,
    );
    emulator.clearFaults();
    emulator.resetCalls();
    logged.length = 0;
  });
  afterEach(() => set.close());

  it('a known kid is found synchronously once fetched; a token without kid may use the only key', async () => {
    expect(set.find(kid)).toBeUndefined();
    expect((await set.lookup(kid)).status).toBe('found');
    expect(set.find(kid)).toBeDefined();
    expect(set.find(undefined)).toBe(set.find(kid));
    expect(emulator.calls.jwks).toBe(1);
  });

  it('issue 10.7: concurrent misses share one fetch (single-flight)', async () => {
    const lookups = await Promise.all(Array.from({ length: 20 }, () => set.lookup(kid)));
    expect(lookups.every((lookup) => lookup.status === 'found')).toBe(true);
    expect(emulator.calls.jwks).toBe(1);
  });

  it('unknown kid: refused without a fetch within the cooldown, one refetch after it (SECURITY 3)', async () => {
    await set.lookup(kid);
    for (let i = 0; i < 10; i++)
      expect(await set.lookup(`unknown-${i}`)).toEqual({ status: 'unknown' });
    expect(emulator.calls.jwks).toBe(1);
    clock += JWKS_TIMINGS.cooldownMs;
    for (let i = 0; i < 10; i++)
      expect(await set.lookup(`unknown-${i}`)).toEqual({ status: 'unknown' });
    expect(emulator.calls.jwks).toBe(2);
  });

  it('issue 10.7: failures back off: one immediate retry, then 1 s doubling to 10 s', async () => {
    emulator.fault('jwks', { status: 500 });
    const fetchesAfter = async (advanceMs: number) => {
      clock += advanceMs;
      const before = emulator.calls.jwks;
      expect(await set.lookup(kid)).toEqual({ status: 'unavailable' });
      return emulator.calls.jwks - before;
    };
    expect(await fetchesAfter(0)).toBe(1);
    expect(await fetchesAfter(0)).toBe(1); // the immediate retry
    expect(await fetchesAfter(999)).toBe(0);
    expect(await fetchesAfter(1)).toBe(1); // 1 s
    expect(await fetchesAfter(1999)).toBe(0);
    expect(await fetchesAfter(1)).toBe(1); // 2 s
    expect(await fetchesAfter(4000)).toBe(1); // 4 s
    expect(await fetchesAfter(8000)).toBe(1); // 8 s
    expect(await fetchesAfter(9999)).toBe(0);
    expect(await fetchesAfter(1)).toBe(1); // capped at 10 s
    expect(await fetchesAfter(10_000)).toBe(1);

    emulator.clearFaults(); // repaired: found by the first need after the back-off
    expect(await fetchesAfter(9999)).toBe(0);
    clock += 1;
    expect((await set.lookup(kid)).status).toBe('found');
    // Said once per outage, and once when it ends: no log line per retry.
    expect(logged).toEqual([
      expect.stringMatching(
        /^warn JWKS fetch from .* failed \(answered HTTP 500\): tokens are refused/,
      ),
      expect.stringMatching(/^log JWKS answers again: 1 signing key/),
    ]);
  });

  it('issue 10.7: an empty answer neither replaces the last good set nor starts the cooldown', async () => {
    await set.lookup(kid);
    emulator.fault('jwks', { status: 200, body: { keys: [] } });
    clock += JWKS_TIMINGS.cooldownMs;
    expect(await set.lookup('rotated')).toEqual({ status: 'unavailable' });
    expect(set.find(kid)).toBeDefined(); // last good set kept
    emulator.clearFaults();
    await emulator.rotateKeys();
    const rotated = JSON.parse(
      Buffer.from((await emulator.signAccessToken({})).split('.')[0]!, 'base64url').toString(),
    ).kid as string;
    // No cooldown after the empty answer: the very next need refetches (the immediate retry).
    expect((await set.lookup(rotated)).status).toBe('found');
    expect(set.find(kid)).toBeUndefined(); // a good answer replaces the set: the old key is gone
  });

  it('issue 10.7: a set past its max age is still used and refreshed in the background, with back-off', async () => {
    await set.lookup(kid);
    emulator.fault('jwks', { down: true });
    clock += JWKS_TIMINGS.maxAgeMs;
    for (let i = 0; i < 50; i++) {
      expect(set.find(kid)).toBeDefined(); // synchronous, never waits for the refresh
      await set.refresh(); // joins whatever the lookup started, so the count is deterministic
    }
    // The first good fetch, one failed refresh and its immediate retry; back-off holds the rest.
    expect(emulator.calls.jwks).toBe(3);
    expect(logged).toEqual([
      expect.stringMatching(
        /^warn JWKS fetch from .* failed \(fetch failed.*\): still verifying with the last good set/,
      ),
    ]);
  });
});
