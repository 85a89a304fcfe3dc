import { WorkOS } from '@workos-inc/node';
import { seal, unseal } from '../../lib/session/iron.js';

const password = 'p'.repeat(32) + '-iron-spec';
const workos = new WorkOS('sk_test_iron', { clientId: 'client_iron' });
const payload = { accessToken: 'a.b.c', refreshToken: 'rt_1', user: { id: 'user_1' } };

// The SDK seals only inside authenticate*(); its private sealer is the same code path.
type SdkSealer = {
  sealSessionDataFromAuthenticationResponse(args: {
    authenticationResponse: { accessToken: string; refreshToken: string; user: unknown };
    cookiePassword: string;
  }): Promise<string>;
};
const sdkSeal = (data: typeof payload) =>
  (workos.userManagement as unknown as SdkSealer).sealSessionDataFromAuthenticationResponse({
    authenticationResponse: { ...data, accessToken: unsignedToken({ org_id: 'org_1' }) },
    cookiePassword: password,
  });

function unsignedToken(claims: object): string {
  const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
  return `${b64({ alg: 'RS256' })}.${b64(claims)}.sig`;
}

describe('iron Fe26.2 seal', () => {
  it('round-trips its own seal', () => {
    expect(unseal(seal(payload, password), password)).toEqual({ ok: true, data: payload });
  });

  it('writes what the SDK unseals', async () => {
    const sealed = seal(payload, password);
    expect(sealed).toMatch(/^Fe26\.2\*1\*[0-9a-f]{64}\*[\w-]+\*[\w-]+\*\*[0-9a-f]{64}\*[\w-]+~2$/);
    await expect(
      workos.userManagement.getSessionFromCookie({ sessionData: sealed, cookiePassword: password }),
    ).resolves.toEqual(payload);
  });

  it('reads what the SDK seals, with and without the ~2 suffix', async () => {
    const sealed = await sdkSeal(payload);
    const result = unseal(sealed, password);
    expect(result.ok && (result.data as typeof payload).refreshToken).toBe('rt_1');
    expect(unseal(sealed.replace(/~2$/, ''), password).ok).toBe(true);
  });

  it('rejects another password with bad_mac', () => {
    expect(unseal(seal(payload, password), 'q'.repeat(40))).toEqual({
      ok: false,
      reason: 'bad_mac',
    });
  });

  describe('rejects every tampered part without throwing', () => {
    const sealed = seal(payload, password);
    const parts = sealed.replace(/~2$/, '').split('*');
    const flip = (s: string) => (s[0] === 'A' ? 'B' : 'A') + s.slice(1);
    const withPart = (i: number, value: string) =>
      parts.map((p, j) => (j === i ? value : p)).join('*') + '~2';
    const cases: Array<[string, string]> = [
      ['salt', withPart(2, flip(parts[2]!))],
      ['iv', withPart(3, flip(parts[3]!))],
      ['ciphertext', withPart(4, flip(parts[4]!))],
      ['hmac salt', withPart(6, flip(parts[6]!))],
      ['hmac', withPart(7, flip(parts[7]!))],
      ['prefix', withPart(0, 'Fe26.1')],
      ['password id', withPart(1, '2')],
      ['non-numeric expiry', withPart(5, 'soon')],
      ['7 parts', parts.slice(0, 7).join('*')],
      ['9 parts', [...parts, 'x'].join('*')],
      ['version suffix', sealed.replace(/~2$/, '~9')],
      ['empty', ''],
      ['garbage', '%%%***'],
      ['truncated', sealed.slice(0, sealed.length - 10)],
    ];
    it.each(cases)('%s', (_name, value) => {
      const result = unseal(value, password);
      expect(result.ok).toBe(false);
    });
  });

  it('honours an expiry field only once the MAC checks out', () => {
    const expired = forgeWithExpiry(Date.now() - 10 * 60_000);
    expect(unseal(expired, password)).toEqual({ ok: false, reason: 'expired_seal' });
    expect(unseal(forgeWithExpiry(Date.now() + 60_000), password).ok).toBe(true);
  });
});

// Re-MACs a seal with an expiry field, as iron does when sealing with a ttl.
import { createHmac, pbkdf2Sync } from 'node:crypto';
function forgeWithExpiry(expiry: number): string {
  const parts = seal(payload, password).replace(/~2$/, '').split('*');
  parts[5] = String(expiry);
  const base = parts.slice(0, 6).join('*');
  const key = pbkdf2Sync(password, parts[6]!, 1, 32, 'sha1');
  parts[7] = createHmac('sha256', key).update(base).digest('base64url');
  return parts.join('*');
}
