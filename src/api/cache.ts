// A small least-recently-used cache of compiled kernels. Evicting a kernel only releases its thread
// pool (the `evict` hook); a caller still holding it can run it again, which starts a new pool.
export class KernelCache<T> {
  private readonly entries = new Map<string, T>();

  constructor(
    private readonly capacity: number,
    private readonly evict: (value: T) => void,
  ) {}

  /** The cached value for `key`, or `make()`'s, cached. A throwing `make` caches nothing. */
  get(key: string, make: () => T): T {
    const hit = this.entries.get(key);
    if (hit !== undefined) {
      // Re-inserting moves the key to the end: Map iteration order is insertion order.
      this.entries.delete(key);
      this.entries.set(key, hit);
      return hit;
    }
    const value = make();
    this.entries.set(key, value);
    if (this.entries.size > this.capacity) {
      const [oldestKey, oldest] = this.entries.entries().next().value as [string, T];
      this.entries.delete(oldestKey);
      this.evict(oldest);
    }
    return value;
  }

  delete(key: string): void {
    this.entries.delete(key);
  }

  get size(): number {
    return this.entries.size;
  }

  async clear(release: (value: T) => Promise<void>): Promise<void> {
    const values = [...this.entries.values()];
    this.entries.clear();
    await Promise.all(values.map(release));
  }
}
