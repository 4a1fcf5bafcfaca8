/**
 * An in-process async lock per key: `run(key, fn)` starts `fn` only once every earlier `run` with the same key has
 * settled. Keys with no waiter are forgotten, so the map only holds sessions that are busy right now.
 */
export class KeyedMutex {
  private readonly tails = new Map<string, Promise<void>>();

  async run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key);
    let release!: () => void;
    const mine = new Promise<void>((resolve) => (release = resolve));
    // `previous` never rejects: it is the release promise of the holder before us.
    const tail = previous ? previous.then(() => mine) : mine;
    this.tails.set(key, tail);
    try {
      if (previous) await previous;
      return await fn();
    } finally {
      release();
      if (this.tails.get(key) === tail) this.tails.delete(key);
    }
  }

  /** Whether someone holds or waits for `key` (for tests and diagnostics). */
  isLocked(key: string): boolean {
    return this.tails.has(key);
  }

  /** Number of keys held or waited for. */
  get size(): number {
    return this.tails.size;
  }
}
