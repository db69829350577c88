/** A least-recently-used cache bounded by the summed size of its values. */
export class LruCache<K, V> {
  private readonly entries = new Map<K, { value: V; size: number }>();
  private totalSize = 0;

  constructor(
    private readonly maxSize: number,
    private readonly sizeOf: (value: V) => number,
  ) {}

  get size(): number {
    return this.totalSize;
  }

  get(key: K): V | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    // Map keeps insertion order: re-inserting marks the entry most recently used.
    this.entries.delete(key);
    this.entries.set(key, entry);
    return entry.value;
  }

  set(key: K, value: V): void {
    const size = this.sizeOf(value);
    const old = this.entries.get(key);
    if (old) {
      this.entries.delete(key);
      this.totalSize -= old.size;
    }
    if (size > this.maxSize) return;
    this.entries.set(key, { value, size });
    this.totalSize += size;
    for (const [oldestKey, oldest] of this.entries) {
      if (this.totalSize <= this.maxSize) break;
      this.entries.delete(oldestKey);
      this.totalSize -= oldest.size;
    }
  }
}
