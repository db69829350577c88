import { BOUNDED_MALLOC, boundedMallocEnv } from './boundedMalloc';

describe('boundedMallocEnv', () => {
  test('adds every setting on Linux when the caller set none', () => {
    expect(boundedMallocEnv({}, 'linux')).toEqual(BOUNDED_MALLOC);
    expect(Object.keys(BOUNDED_MALLOC)).toEqual(['MALLOC_ARENA_MAX', 'MALLOC_MMAP_THRESHOLD_']);
  });

  test("keeps the caller's own settings, and adds nothing where glibc is not the allocator", () => {
    expect(boundedMallocEnv({ MALLOC_ARENA_MAX: '8' }, 'linux')).toEqual({ MALLOC_MMAP_THRESHOLD_: BOUNDED_MALLOC.MALLOC_MMAP_THRESHOLD_ });
    expect(boundedMallocEnv({ ...BOUNDED_MALLOC }, 'linux')).toEqual({});
    expect(boundedMallocEnv({}, 'darwin')).toEqual({});
  });
});
