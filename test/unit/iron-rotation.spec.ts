import { sealData, unsealData } from 'iron-session';
import { resolveAuthKitConfig } from '../../lib/authkit.config.js';
import { seal, unseal } from '../../lib/session/iron.js';

const OLD = 'old-cookie-password-that-is-long-enough-1111';
const NEW = 'new-cookie-password-that-is-long-enough-2222';
const payload = { accessToken: 'a.b.c', refreshToken: 'rt_1', user: { id: 'user_1' } };
const base = { clientId: 'client_1', apiKey: 'sk_test_1' };

/** The rotated set as the module normalizes it at boot. */
const rotated = () =>
  resolveAuthKitConfig({ ...base, cookiePassword: { 2: NEW, 1: OLD } }, {}).cookiePassword;

describe('cookie password rotation (issue 10.13)', () => {
  it('issue 10.13: a cookie sealed by iron-session with { 2: new, 1: old } (id 2) is accepted', async () => {
    const sealed = await sealData(payload, { password: { 2: NEW, 1: OLD } });
    expect(sealed).toMatch(/^Fe26\.2\*2\*/);
    expect(unseal(sealed, rotated())).toEqual({ ok: true, data: payload });
  });

  it('issue 10.13: a cookie sealed with the old password (id 1) is still read; new seals use id 2', async () => {
    const passwords = rotated();
    expect(unseal(seal(payload, OLD), passwords)).toEqual({ ok: true, data: payload });
    expect(unseal(await sealData(payload, { password: OLD }), passwords).ok).toBe(true);
    expect(seal(payload, passwords)).toMatch(/^Fe26\.2\*2\*/);
  });

  it('issue 10.13: iron-session unseals what we seal with the rotated set', async () => {
    const sealed = seal(payload, rotated());
    await expect(unsealData(sealed, { password: { 2: NEW, 1: OLD } })).resolves.toEqual(payload);
    // And a reader that only has the new password under its id (the old one retired).
    await expect(unsealData(sealed, { password: { 2: NEW } })).resolves.toEqual(payload);
  });

  it('issue 10.13: a seal naming a password id the app does not know is refused as unknown_password', async () => {
    const sealed = await sealData(payload, { password: { 3: 'x'.repeat(40) } });
    expect(unseal(sealed, rotated())).toEqual({ ok: false, reason: 'unknown_password' });
    // A plain-string password is id 1 only, as before.
    expect(unseal(sealed, NEW)).toEqual({ ok: false, reason: 'unknown_password' });
  });

  it('issue 10.13: boot refuses a short password in the map, naming its id and the fix', () => {
    expect(() =>
      resolveAuthKitConfig({ ...base, cookiePassword: { 2: NEW, 1: 'short' } }, {}),
    ).toThrow(/cookiePassword id "1" must be at least 32 characters \(got 5\).*openssl rand/s);
  });

  it('issue 10.13: boot refuses an empty map, a bad id, and a map without a numeric id', () => {
    expect(() => resolveAuthKitConfig({ ...base, cookiePassword: {} }, {})).toThrow(
      /cookiePassword has no passwords/,
    );
    expect(() => resolveAuthKitConfig({ ...base, cookiePassword: { 'a-b': NEW } }, {})).toThrow(
      /cookiePassword id "a-b": an id is letters, digits or _/,
    );
    expect(() =>
      resolveAuthKitConfig({ ...base, cookiePassword: { 2: NEW, '01': OLD } }, {}),
    ).toThrow(/id "01".*without leading zeros/);
    expect(() => resolveAuthKitConfig({ ...base, cookiePassword: { current: NEW } }, {})).toThrow(
      /needs a numeric id for the password that seals new cookies/,
    );
  });

  it('issue 10.13: word ids are read; the highest numeric id writes (numeric order, not string order)', () => {
    const passwords = resolveAuthKitConfig(
      { ...base, cookiePassword: { 9: OLD, 10: NEW, legacy: 'l'.repeat(32) } },
      {},
    ).cookiePassword;
    expect(passwords.current.id).toBe('10');
    const legacy = seal(payload, {
      current: { id: 'legacy', secret: 'l'.repeat(32) },
      byId: new Map(),
    });
    expect(unseal(legacy, passwords)).toEqual({ ok: true, data: payload });
  });
});
