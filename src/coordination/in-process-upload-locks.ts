import { AcquireOptions, Lease, UploadLocks } from './upload-locks';

interface Holder {
  /** Waiters in arrival order; each is handed the key directly when the one before releases it. */
  queue: Array<() => void>;
}

/**
 * UploadLocks for a single instance: a key is held by one lease at a time, waiters are served first come first
 * served. A lease is never lost (its holder can only die with this process), so its signal never aborts.
 */
export class InProcessUploadLocks extends UploadLocks {
  private readonly held = new Map<string, Holder>();

  async acquire(key: string, { waitMs, signal }: AcquireOptions): Promise<Lease | null> {
    signal?.throwIfAborted();
    const holder = this.held.get(key);
    if (!holder) {
      this.held.set(key, { queue: [] });
      return this.lease(key);
    }
    if (waitMs <= 0) return null;
    const handedOver = await this.wait(holder, waitMs, signal);
    return handedOver ? this.lease(key) : null;
  }

  /** Whether the key is held (for tests and diagnostics). */
  isHeld(key: string): boolean {
    return this.held.has(key);
  }

  private wait(holder: Holder, waitMs: number, signal?: AbortSignal): Promise<boolean> {
    return new Promise((resolve, reject) => {
      const settle = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        const index = holder.queue.indexOf(take);
        if (index >= 0) holder.queue.splice(index, 1);
      };
      const take = () => {
        settle();
        resolve(true);
      };
      const onAbort = () => {
        settle();
        reject(signal?.reason as Error);
      };
      const timer = setTimeout(() => {
        settle();
        resolve(false);
      }, waitMs);
      signal?.addEventListener('abort', onAbort, { once: true });
      holder.queue.push(take);
    });
  }

  private lease(key: string): Lease {
    let released = false;
    return {
      key,
      signal: new AbortController().signal,
      release: () => {
        if (released) return Promise.resolve();
        released = true;
        const holder = this.held.get(key);
        const next = holder?.queue.shift();
        if (next) next();
        else this.held.delete(key);
        return Promise.resolve();
      },
    };
  }
}
