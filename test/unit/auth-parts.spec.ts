import { crossSiteReason } from '../../lib/auth/cross-site.js';
import { safeReturnTo } from '../../lib/auth/return-to.js';
import { checkSignInState, startSignIn, UsedStates } from '../../lib/auth/sign-in.state.js';

const ORIGIN = 'https://app.example.test';
const PASSWORD = 'unit-cookie-password-that-is-long-enough-1';

describe('safeReturnTo', () => {
  it.each([
    ['/reports?x=1#y', `${ORIGIN}/reports?x=1#y`],
    [`${ORIGIN}/a`, `${ORIGIN}/a`],
    ['reports', `${ORIGIN}/reports`],
    ['/a/../b', `${ORIGIN}/b`],
  ])('keeps %j on our origin as %j', (input, expected) => {
    expect(safeReturnTo(input, ORIGIN)).toBe(expected);
  });

  it.each([
    'https://evil.com',
    '//evil.com',
    '///evil.com',
    '/\\evil.com',
    '\\\\evil.com',
    '/\t/evil.com',
    '/\n/evil.com',
    '  //evil.com',
    '/..//evil.com',
    'javascript:alert(1)',
    'data:text/html,hi',
    `${ORIGIN}@evil.com`,
    `https://user:pass@app.example.test/`,
    'http://app.example.test/', // another scheme is another origin
    '/' + 'a'.repeat(3000),
    '',
  ])('sends %j home', (input) => {
    expect(safeReturnTo(input, ORIGIN)).toBe(`${ORIGIN}/`);
  });

  it('sends non-strings home and takes a fallback only when it is on our origin', () => {
    expect(safeReturnTo(undefined, ORIGIN)).toBe(`${ORIGIN}/`);
    expect(safeReturnTo(['/a'], ORIGIN)).toBe(`${ORIGIN}/`);
    expect(safeReturnTo('//evil.com', ORIGIN, '/home')).toBe(`${ORIGIN}/home`);
    expect(safeReturnTo('//evil.com', ORIGIN, 'https://evil.com/')).toBe(`${ORIGIN}/`);
  });
});

describe('crossSiteReason', () => {
  const allowed = [ORIGIN, 'http://localhost:5173'];
  const req = (headers: Record<string, string>) => ({ headers });

  it('lets same-origin, trusted-origin and non-browser requests through', () => {
    expect(crossSiteReason(req({ origin: ORIGIN }), allowed)).toBeUndefined();
    expect(crossSiteReason(req({ origin: 'http://localhost:5173' }), allowed)).toBeUndefined();
    expect(crossSiteReason(req({ 'sec-fetch-site': 'same-origin' }), allowed)).toBeUndefined();
    expect(crossSiteReason(req({ 'sec-fetch-site': 'none' }), allowed)).toBeUndefined();
    expect(crossSiteReason(req({}), allowed)).toBeUndefined();
  });

  it('refuses foreign, null and look-alike origins, and cross-site or same-site fetches', () => {
    for (const origin of ['https://evil.com', 'null', `${ORIGIN}.evil.com`, `${ORIGIN}:443`]) {
      expect(crossSiteReason(req({ origin }), allowed)).toMatch(/is not allowed/);
    }
    expect(crossSiteReason(req({ 'sec-fetch-site': 'cross-site' }), allowed)).toMatch(/cross-site/);
    expect(crossSiteReason(req({ 'sec-fetch-site': 'same-site' }), allowed)).toMatch(/same-site/);
  });
});

describe('sign-in state', () => {
  it('round-trips and binds the state parameter to the cookie', () => {
    const started = startSignIn(`${ORIGIN}/x`, PASSWORD);
    const check = checkSignInState(started.state, started.cookie, PASSWORD);
    expect(check).toMatchObject({ ok: true, returnTo: `${ORIGIN}/x` });
    expect(checkSignInState(`${started.state}x`, started.cookie, PASSWORD)).toMatchObject({
      ok: false,
      reason: 'STATE_MISMATCH',
    });
  });

  it('refuses an oversized or truncated cookie as STATE_INVALID, never throwing', () => {
    const started = startSignIn(`${ORIGIN}/`, PASSWORD);
    for (const cookie of ['x'.repeat(5000), started.cookie.slice(0, 40), 'Fe26.2**', '']) {
      expect(checkSignInState(started.state, cookie, PASSWORD)).toMatchObject({
        ok: false,
        reason: 'STATE_INVALID',
      });
    }
  });

  it('UsedStates refuses a nonce twice and forgets it after its expiry', () => {
    const used = new UsedStates();
    const now = Date.now();
    const exp = Math.floor(now / 1000) + 600;
    expect(used.claim('n1', exp, now)).toBe(true);
    expect(used.claim('n1', exp, now)).toBe(false);
    expect(used.claim('n1', exp + 600, now + 601_000)).toBe(true);
  });
});
