import type { AuthKitSession } from '../../lib/index.js';
import { VerifiedSessionCache } from '../../lib/session/verified-session.cache.js';

const NOW = 1_700_000_000;
const session = (userId: string) => ({ userId }) as AuthKitSession;

describe('VerifiedSessionCache (CLOCK)', () => {
  it('issue 11: a session in use survives a churn of one-off sessions ten times the size (a FIFO evicts it)', () => {
    const cache = new VerifiedSessionCache(100);
    cache.set('hot', session('hot'), Infinity, NOW + 3600);
    for (let i = 0; i < 1000; i++) {
      cache.set(`once-${i}`, session(`once-${i}`), Infinity, NOW + 3600);
      if (i % 10 === 0) expect(cache.get('hot', NOW)?.session.userId).toBe('hot');
    }
    expect(cache.get('hot', NOW)?.session.userId).toBe('hot');
  });

  it('issue 11: a working set as large as the cache is served from it entirely (two generations held half)', () => {
    const cache = new VerifiedSessionCache(100);
    const keys = Array.from({ length: 100 }, (_, i) => `s${i}`);
    for (const key of keys) cache.set(key, session(key), Infinity, NOW + 3600);
    // Uniform draws over the whole working set, each miss re-verified and written back.
    let misses = 0;
    let draw = 7;
    for (let i = 0; i < 10_000; i++) {
      draw = (draw * 48271) % 2147483647;
      const key = keys[draw % keys.length] as string;
      if (!cache.get(key, NOW)) {
        misses++;
        cache.set(key, session(key), Infinity, NOW + 3600);
      }
    }
    expect(misses).toBe(0);
  });

  it('an expired entry is gone and its slot is the next one replaced', () => {
    const cache = new VerifiedSessionCache(3);
    cache.set('a', session('a'), Infinity, NOW + 3600);
    cache.set('b', session('b'), Infinity, NOW + 10);
    cache.set('c', session('c'), Infinity, NOW + 3600);
    cache.get('a', NOW + 20);
    cache.get('c', NOW + 20);
    expect(cache.get('b', NOW + 20)).toBeUndefined();
    cache.set('d', session('d'), Infinity, NOW + 3600);
    expect(cache.get('a', NOW + 20)?.session.userId).toBe('a');
    expect(cache.get('c', NOW + 20)?.session.userId).toBe('c');
    expect(cache.get('d', NOW + 20)?.session.userId).toBe('d');
    expect(cache.size).toBe(3);
  });

  it('never holds more than its size, whatever is written', () => {
    const cache = new VerifiedSessionCache(100);
    for (let i = 0; i < 10_000; i++) {
      cache.set(`k${i}`, session(`k${i}`), Infinity, NOW + 3600);
      cache.get(`k${i >> 1}`, NOW);
      expect(cache.size).toBeLessThanOrEqual(100);
    }
  });

  it('an entry is gone at expiresAt, and not before', () => {
    const cache = new VerifiedSessionCache(4);
    cache.set('a', session('a'), Infinity, NOW + 10);
    cache.set('b', session('b'), Infinity, NOW + 10);
    expect(cache.get('a', NOW + 10)).toBeUndefined();
    expect(cache.get('b', NOW + 9)?.session.userId).toBe('b');
  });

  it('keys two credentials that differ in one character apart', () => {
    const cache = new VerifiedSessionCache(4);
    const cookie = `Fe26.2*1*${'a'.repeat(1900)}~2`;
    expect(cache.keyOf(cookie)).not.toBe(cache.keyOf(cookie.replace('*1*a', '*1*b')));
    expect(cache.keyOf(cookie)).toBe(cache.keyOf(`${cookie}`));
  });

  it('size 0 turns it off', () => {
    const cache = new VerifiedSessionCache(0);
    cache.set('a', session('a'), Infinity, NOW + 10);
    expect(cache.get('a', NOW)).toBeUndefined();
    expect(cache.size).toBe(0);
  });
});
