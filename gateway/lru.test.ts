import { LruCache } from './lru';

describe('LruCache', () => {
  const cache = () => new LruCache<string, string>(10, (v) => v.length);

  test('evicts the least recently used entries once the sizes pass the bound', () => {
    const c = cache();
    c.set('a', 'aaaa');
    c.set('b', 'bbbb');
    expect(c.get('a')).toBe('aaaa');
    c.set('c', 'cccc');
    expect(c.get('b')).toBeUndefined();
    expect(c.get('a')).toBe('aaaa');
    expect(c.get('c')).toBe('cccc');
    expect(c.size).toBe(8);
  });

  test('replacing a key updates its size; a value larger than the bound is not kept', () => {
    const c = cache();
    c.set('a', 'aaaa');
    c.set('a', 'aa');
    expect(c.size).toBe(2);
    c.set('huge', 'x'.repeat(11));
    expect(c.get('huge')).toBeUndefined();
    expect(c.get('a')).toBe('aa');
  });
});
