import type { AuthKitSession } from '../../lib/index.js';
import { VerifiedSessionCache } from '../../lib/session/verified-session.cache.js';

const NOW = 1_700_000_000;
const session = (userId: string) => ({ userId }) as AuthKitSession;

describe('VerifiedSessionCache (two generations)', () => {
  it('issue 11: a session in use survives a churn of one-off sessions ten times the size (a FIFO evicts it)', () => {
    const cache = new VerifiedSessionCache(100);
    cache.set('hot', session('hot'), Infinity, NOW + 3600);
    for (let i = 0; i < 1000; i++) {
      cache.set(`once-${i}`, session(`once-${i}`), Infinity, NOW + 3600);
      if (i % 10 === 0) expect(cache.get('hot', NOW)?.session.userId).toBe('hot');
    }
    expect(cache.get('hot', NOW)?.session.userId).toBe('hot');
  });

  it('never holds more than its size, whatever is written', () => {
    const cache = new VerifiedSessionCache(100);
    for (let i = 0; i < 10_000; i++) {
      cache.set(`k${i}`, session(`k${i}`), Infinity, NOW + 3600);
      cache.get(`k${i >> 1}`, NOW);
      expect(cache.size).toBeLessThanOrEqual(100);
    }
  });

  it('an entry is gone at expiresAt, in either generation', () => {
    const cache = new VerifiedSessionCache(4);
    cache.set('a', session('a'), Infinity, NOW + 10);
    cache.set('b', session('b'), Infinity, NOW + 10);
    cache.set('c', session('c'), Infinity, NOW + 10); // 'a' and 'b' are now the old generation
    expect(cache.get('a', NOW + 10)).toBeUndefined();
    expect(cache.get('c', NOW + 10)).toBeUndefined();
    expect(cache.get('b', NOW + 9)?.session.userId).toBe('b');
  });

  it('size 0 turns it off', () => {
    const cache = new VerifiedSessionCache(0);
    cache.set('a', session('a'), Infinity, NOW + 10);
    expect(cache.get('a', NOW)).toBeUndefined();
    expect(cache.size).toBe(0);
  });
});
