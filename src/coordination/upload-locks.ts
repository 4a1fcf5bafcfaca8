/** Exclusive hold on one key (an upload), for as long as its holder keeps it. */
export interface Lease {
  readonly key: string;
  /**
   * Aborted when the lease is lost while still held (its renewal failed or it expired, so another instance may take
   * the key now): the holder must stop writing. A `release()` does not abort it.
   */
  readonly signal: AbortSignal;
  /** Lets go of the key; safe to call twice, and after the lease was lost. */
  release(): Promise<void>;
}

export interface AcquireOptions {
  /**
   * How long the lock outlives a holder that stops renewing it (a dead instance). A live holder renews it every
   * third of this, so it can be held far longer. In process, a holder cannot die without its locks: unused there.
   */
  leaseMs: number;
  /** How long to wait for a held key; 0 tries once. */
  waitMs: number;
  /** Stops the wait: `acquire` rejects with the signal's reason. */
  signal?: AbortSignal;
}

/**
 * Per-upload locks: one writer per upload across every instance (Redis, when REDIS_URL is set) or in this process.
 * Abstract class so it is its own Nest injection token.
 */
export abstract class UploadLocks {
  /** The lease on `key`, or null when it stayed held by someone else for `waitMs`. */
  abstract acquire(key: string, options: AcquireOptions): Promise<Lease | null>;
}
