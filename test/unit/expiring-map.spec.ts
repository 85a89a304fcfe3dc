import { ExpiringMap } from '../../lib/session/expiring-map.js';

describe('ExpiringMap (refresh outcomes)', () => {
  it('forgets an entry once its time is up, and prunes expired ones on the next write', () => {
    const map = new ExpiringMap<string>(1000);
    map.set('a', 'A', 0);
    map.set('b', 'B', 500);
    expect(map.get('a', 999)).toBe('A');
    expect(map.get('a', 1000)).toBeUndefined();
    map.set('c', 'C', 1600); // 'b' (until 1500) is pruned here
    expect(map.get('b', 0)).toBeUndefined();
    expect(map.get('c', 1601)).toBe('C');
  });

  it('stays bounded by count whatever the write rate (a refresh storm)', () => {
    const map = new ExpiringMap<number>(30_000, 100);
    for (let i = 0; i < 10_000; i++) map.set(`token-${i}`, i, 0);
    expect(map.get('token-9899', 1)).toBeUndefined();
    expect(map.get('token-9900', 1)).toBe(9900);
    expect(map.get('token-9999', 1)).toBe(9999);
  });
});
