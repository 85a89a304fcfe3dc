import { Test } from '@nestjs/testing';
import { WorkOS } from '@workos-inc/node';
import { API_KEY_CACHE_OPTIONS, WORKOS_CLIENT } from '../../lib/authkit.constants.js';
import { ApiKeyValidator, type ApiKeyCheck } from '../../lib/credentials/api-key.validator.js';
import type { WorkOSEmulator } from '../../lib/testing/index.js';
import { ALICE, ORG_A, ORG_B, startSeededEmulator } from './support/seed.js';

/** The validator as Nest builds it, over the real SDK talking to the emulator. */
async function validatorFor(emulator: WorkOSEmulator): Promise<ApiKeyValidator> {
  const moduleRef = await Test.createTestingModule({
    providers: [
      ApiKeyValidator,
      {
        provide: WORKOS_CLIENT,
        useValue: new WorkOS(emulator.apiKey, { ...emulator.connection(), maxRetries: 0 }),
      },
      {
        provide: API_KEY_CACHE_OPTIONS,
        useValue: { ttlSeconds: 60, negativeTtlSeconds: 10, maxEntries: 3 },
      },
    ],
  }).compile();
  return moduleRef.get(ApiKeyValidator);
}

describe('API key validation against WorkOS (emulator, real SDK)', () => {
  let emulator: WorkOSEmulator;
  let validator: ApiKeyValidator;
  let orgKey: { id: string; value: string };

  beforeEach(async () => {
    emulator = await startSeededEmulator();
    validator = await validatorFor(emulator);
    orgKey = emulator.createApiKey({
      owner: { type: 'organization', id: ORG_A },
      name: 'ci',
      permissions: ['reports:read'],
    });
  });
  afterEach(() => emulator.close());

  it('an organization key and a user key map to their principals', async () => {
    expect(await validator.validate(orgKey.value)).toEqual({
      ok: true,
      principal: {
        id: orgKey.id,
        name: 'ci',
        organizationId: ORG_A,
        permissions: ['reports:read'],
      },
    });
    const userKey = emulator.createApiKey({
      owner: { type: 'user', id: ALICE, organizationId: ORG_B },
    });
    expect(await validator.validate(userKey.value)).toMatchObject({
      ok: true,
      principal: { id: userKey.id, organizationId: ORG_B, userId: ALICE, permissions: [] },
    });
  });

  it('100 concurrent requests with one key: one upstream validation, and the race happened', async () => {
    const answers = Array.from({ length: 100 }, () => validator.validate(orgKey.value));
    // All 100 were asked before the first answer came back: they share one question.
    expect(answers.every((a) => a === answers[0] && a instanceof Promise)).toBe(true);
    const settled = await Promise.all(answers);
    expect(settled.every((a) => a.ok)).toBe(true);
    expect([emulator.calls.apiKeyValidations, validator.upstreamCalls]).toEqual([1, 1]);
    // Within the window: answered from the cache, synchronously.
    expect(validator.validate(orgKey.value)).toMatchObject({ ok: true });
    expect(emulator.calls.apiKeyValidations).toBe(1);
  });

  it('a key revoked at WorkOS stops working when its window ends; revoke(id) stops it at once', async () => {
    const now = Date.now();
    expect(await validator.validate(orgKey.value, now)).toMatchObject({ ok: true });
    emulator.revokeApiKey(orgKey.id);
    expect(validator.validate(orgKey.value, now + 59_000)).toMatchObject({ ok: true });
    expect(await validator.validate(orgKey.value, now + 61_000)).toMatchObject({
      ok: false,
      reason: 'INVALID_API_KEY',
      status: 401,
    });

    const other = emulator.createApiKey({ owner: { type: 'organization', id: ORG_B } });
    expect(await validator.validate(other.value)).toMatchObject({ ok: true });
    validator.revoke(other.id);
    const before = emulator.calls.apiKeyValidations;
    const refused = await validator.validate(other.value);
    // Asked again (the entry was dropped), and refused although WorkOS still knows the key.
    expect([refused.ok, emulator.calls.apiKeyValidations - before]).toEqual([false, 1]);
  });

  it('unknown keys, the environment secret and malformed values are refused; malformed ones cost no call', async () => {
    const unknown = 'sk_test_' + 'a'.repeat(64);
    expect(await validator.validate(unknown)).toMatchObject({ reason: 'INVALID_API_KEY' });
    expect(validator.validate(unknown)).toMatchObject({ reason: 'INVALID_API_KEY' }); // cached
    expect(await validator.validate(emulator.apiKey)).toMatchObject({ reason: 'INVALID_API_KEY' });
    const calls = emulator.calls.apiKeyValidations;
    expect(calls).toBe(2);
    for (const bad of [
      'eyJhbGciOi.eyJzdWIi.sig',
      'sk_' + 'x'.repeat(300),
      'short',
      'sk test',
      '',
    ]) {
      expect(validator.validate(bad)).toMatchObject({ ok: false, reason: 'INVALID_API_KEY' });
    }
    expect(emulator.calls.apiKeyValidations).toBe(calls);
  });

  it('WorkOS failing is a 503 that is not remembered: the next request validates again', async () => {
    emulator.fault('api-key-validations', { status: 500, times: 1 });
    const failed: ApiKeyCheck = await validator.validate(orgKey.value);
    expect(failed).toMatchObject({ ok: false, reason: 'API_KEY_UNAVAILABLE', status: 503 });
    expect(await validator.validate(orgKey.value)).toMatchObject({ ok: true });
    expect(emulator.calls.apiKeyValidations).toBe(2);
  });

  it('bounded: the least recently validated key is forgotten first', async () => {
    const keys = [
      orgKey,
      ...[1, 2, 3].map(() => emulator.createApiKey({ owner: { type: 'organization', id: ORG_A } })),
    ];
    for (const key of keys) await validator.validate(key.value); // 4 keys, room for 3
    const calls = emulator.calls.apiKeyValidations;
    await validator.validate(keys[3].value); // still cached
    await validator.validate(keys[0].value); // the oldest: asked again
    expect(emulator.calls.apiKeyValidations - calls).toBe(1);
  });
});
