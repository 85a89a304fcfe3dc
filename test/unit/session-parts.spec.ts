import { IncomingMessage } from 'node:http';
import { Socket } from 'node:net';
import { checkClaims } from '../../lib/session/access-token.verifier.js';
import { header } from '../../lib/context/carrier.js';
import { findCookie } from '../../lib/session/session.cookie.js';
import { classifyRefreshError } from '../../lib/session/session.refresher.js';
import { resolveAuthKitConfig } from '../../lib/authkit.config.js';
import { refreshDueAt } from '../../lib/session/refresh-due.js';

const ISS = ['https://api.workos.com'];
const NOW = 1_800_000_000;
const payload = (claims: Record<string, unknown>) =>
  new TextEncoder().encode(JSON.stringify(claims));
const good = { iss: ISS[0], sub: 'user_1', sid: 'session_1', iat: NOW - 10, exp: NOW + 290 };

describe('checkClaims', () => {
  it('issue 10.10: reports expiry at exp itself; the tolerance forgives only iat/nbf in the future', () => {
    expect(checkClaims(payload(good), ISS, NOW, 30).status).toBe('valid');
    expect(checkClaims(payload({ ...good, exp: NOW + 1 }), ISS, NOW, 30).status).toBe('valid');
    expect(checkClaims(payload({ ...good, exp: NOW }), ISS, NOW, 30).status).toBe('expired');
    // Expired, still genuine: the caller reads exp and decides on a leeway (Bearer) or a refresh.
    const late = checkClaims(payload({ ...good, exp: NOW - 29 }), ISS, NOW, 30);
    expect(late).toMatchObject({ status: 'expired', claims: { exp: NOW - 29 } });
    expect(checkClaims(payload({ ...good, iat: NOW + 29 }), ISS, NOW, 30).status).toBe('valid');
    expect(checkClaims(payload({ ...good, nbf: NOW + 29 }), ISS, NOW, 30).status).toBe('valid');
  });

  it.each([
    ['wrong issuer', { iss: 'https://evil.test' }],
    ['missing sid', { sid: undefined }],
    ['empty sub', { sub: '' }],
    ['string exp', { exp: String(NOW + 10) }],
    ['missing exp', { exp: undefined }],
    ['missing iat', { iat: undefined }],
    ['iat in the future', { iat: NOW + 120 }],
    ['nbf in the future', { nbf: NOW + 120 }],
    ['non-string org_id', { org_id: 42 }],
    ['feature_flags not a list', { feature_flags: 'beta' }],
  ])('rejects %s', (_name, patch) => {
    expect(checkClaims(payload({ ...good, ...patch }), ISS, NOW, 30).status).toBe('invalid');
  });

  it('rejects a payload that is not a JSON object', () => {
    expect(checkClaims(new TextEncoder().encode('[1]'), ISS, NOW, 30).status).toBe('invalid');
    expect(checkClaims(new TextEncoder().encode('{'), ISS, NOW, 30).status).toBe('invalid');
  });
});

describe('refreshDueAt', () => {
  const token = (lifetime: number) => ({ iat: NOW, exp: NOW + lifetime });
  it("issue 10.10: authkit-nextjs's margins: 60 s before exp, 30 s for tokens living 5 min or less", () => {
    expect(refreshDueAt(token(3600), undefined)).toBe(NOW + 3600 - 60);
    expect(refreshDueAt(token(301), undefined)).toBe(NOW + 301 - 60);
    expect(refreshDueAt(token(300), undefined)).toBe(NOW + 300 - 30);
  });

  it('issue 10.10: never in the first half of a short-lived token', () => {
    expect(refreshDueAt(token(60), undefined)).toBe(NOW + 30);
    expect(refreshDueAt(token(20), undefined)).toBe(NOW + 10);
    expect(refreshDueAt(token(100), 90)).toBe(NOW + 50);
    // A token whose iat is after its exp (never from WorkOS): due at exp, no earlier.
    expect(refreshDueAt({ iat: NOW, exp: NOW - 10 }, undefined)).toBe(NOW - 10);
  });

  it('issue 10.10: refresh.bufferSeconds replaces the margin; 0 refreshes only at exp', () => {
    expect(refreshDueAt(token(3600), 120)).toBe(NOW + 3600 - 120);
    expect(refreshDueAt(token(3600), 0)).toBe(NOW + 3600);
  });
});

describe('findCookie', () => {
  it('finds the cookie at a pair boundary only', () => {
    expect(findCookie('a=1; wos-session=abc*~2; b=2', 'wos-session')).toBe('abc*~2');
    expect(findCookie('xwos-session=evil; wos-session=good', 'wos-session')).toBe('good');
    expect(findCookie('xwos-session=evil', 'wos-session')).toBeUndefined();
    expect(findCookie('wos-session="quoted"', 'wos-session')).toBe('quoted');
    expect(findCookie('wos-session=a%2Ab', 'wos-session')).toBe('a*b');
    expect(findCookie(undefined, 'wos-session')).toBeUndefined();
  });

  it("takes node's own IncomingMessage, whose plain socket has no `encrypted` (types too)", () => {
    // A WebSocket upgrade request, as handleConnection receives it.
    const req = new IncomingMessage(new Socket());
    req.headers = { host: 'localhost:3000' };
    expect(header(req, 'host')).toBe('localhost:3000');
  });
});

describe('classifyRefreshError', () => {
  it('treats only a dead refresh token as terminal', () => {
    expect(classifyRefreshError({ status: 400, error: 'invalid_grant' }).terminal).toBe(true);
    expect(classifyRefreshError({ status: 403, code: 'sso_required' }).terminal).toBe(true);
    expect(
      classifyRefreshError({ status: 400, rawData: { code: 'invalid_grant', message: 'x' } })
        .terminal,
    ).toBe(true);
    expect(classifyRefreshError({ status: 500 }).terminal).toBe(false);
    expect(classifyRefreshError({ status: 429 }).terminal).toBe(false);
    expect(classifyRefreshError(new TypeError('fetch failed')).terminal).toBe(false);
    expect(classifyRefreshError({ status: 401, error: 'invalid_client' }).terminal).toBe(false);
  });
});

describe('resolveAuthKitConfig', () => {
  const base = { clientId: 'client_1', apiKey: 'sk_test_1', cookiePassword: 'p'.repeat(32) };
  it('pins the issuer to the API host by default, in both forms WorkOS uses', () => {
    expect(resolveAuthKitConfig(base, {}).issuers).toEqual([
      'https://api.workos.com',
      'https://api.workos.com/user_management/client_1',
    ]);
    expect(
      resolveAuthKitConfig(
        { ...base, api: { hostname: '127.0.0.1', https: false, port: 8080 } },
        {},
      ).jwksUrl,
    ).toBe('http://127.0.0.1:8080/sso/jwks/client_1');
  });

  it('issue 10.10: refresh.bufferSeconds must be a number of seconds ≥ 0; the error names the fix', () => {
    expect(resolveAuthKitConfig(base, {}).refreshBufferSeconds).toBeUndefined();
    expect(
      resolveAuthKitConfig({ ...base, refresh: { bufferSeconds: 0 } }, {}).refreshBufferSeconds,
    ).toBe(0);
    for (const bad of [-1, Number.NaN, Infinity]) {
      expect(() => resolveAuthKitConfig({ ...base, refresh: { bufferSeconds: bad } }, {})).toThrow(
        /refresh\.bufferSeconds must be a number of seconds ≥ 0 .*or left out for the default/,
      );
    }
  });

  it('issue 11: tokens.verifyOnThreadPool defaults to true and must be a boolean', () => {
    expect(resolveAuthKitConfig(base, {}).verifyOnThreadPool).toBe(true);
    expect(
      resolveAuthKitConfig({ ...base, tokens: { verifyOnThreadPool: false } }, {})
        .verifyOnThreadPool,
    ).toBe(false);
    expect(() =>
      resolveAuthKitConfig(
        { ...base, tokens: { verifyOnThreadPool: 'no' as unknown as boolean } },
        {},
      ),
    ).toThrow(/tokens\.verifyOnThreadPool must be true or false/);
  });

  it('refuses SameSite=None without Secure', () => {
    expect(() =>
      resolveAuthKitConfig({ ...base, cookie: { sameSite: 'none', secure: false } }, {}),
    ).toThrow(/cookie\.sameSite "none" needs a Secure cookie: drop cookie\.secure: false/);
  });
});
