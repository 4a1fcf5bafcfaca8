import { Logger } from '@nestjs/common';
import { ERRORS, type Lock, type Locker, type RequestRelease } from '@tus/utils';
import type { ControlBus, Unsubscribe } from './control-bus';
import type { Lease, UploadLocks } from './upload-locks';

export interface TusLockerOptions {
  /** How long a dead instance's lock on an upload outlives it (see AcquireOptions.leaseMs). */
  leaseMs?: number;
  /** How long a request waits for a held upload before failing, like MemoryLocker's `acquireLockTimeout`. */
  acquireLockTimeoutMs?: number;
  /** While waiting, the release request is sent again this often (the holder may not have been listening yet). */
  askAgainMs?: number;
}

const DEFAULTS: Required<TusLockerOptions> = {
  leaseMs: 10_000,
  acquireLockTimeoutMs: 30_000,
  askAgainMs: 500,
};

/**
 * @tus/server's Locker across instances, over UploadLocks and the ControlBus, with the tus lock-release protocol
 * MemoryLocker implements in one process: a request for a locked upload asks the holder (whichever instance
 * serves it) to release, on the channel `tus-release:<id>`; the holder's `requestRelease` callback runs (for
 * @tus/server: it ends its PATCH soon), and the waiter gets the lock once it is let go, or fails after
 * `acquireLockTimeoutMs` with ERR_LOCK_TIMEOUT. A holder whose lease is lost is asked to stop the same way.
 */
export class RedisTusLocker implements Locker {
  private readonly options: Required<TusLockerOptions>;

  constructor(
    private readonly locks: UploadLocks,
    private readonly bus: ControlBus,
    options: TusLockerOptions = {},
  ) {
    this.options = { ...DEFAULTS, ...options };
  }

  newLock(id: string): Lock {
    return new RedisTusLock(id, this.locks, this.bus, this.options);
  }
}

const logger = new Logger(RedisTusLocker.name);

class RedisTusLock implements Lock {
  private lease?: Lease;
  private unsubscribe?: Unsubscribe;

  constructor(
    private readonly id: string,
    private readonly locks: UploadLocks,
    private readonly bus: ControlBus,
    private readonly options: Required<TusLockerOptions>,
  ) {}

  private get channel(): string {
    return `tus-release:${this.id}`;
  }

  async lock(stopSignal: AbortSignal, requestRelease: RequestRelease): Promise<void> {
    const lease = await this.acquire(stopSignal);
    const askHolder = () => {
      Promise.resolve(requestRelease()).catch((error: Error) =>
        logger.error(`Releasing tus upload ${this.id} failed: ${error.message}`),
      );
    };
    try {
      this.unsubscribe = await this.bus.subscribe(this.channel, askHolder);
    } catch (error) {
      await lease.release();
      throw error;
    }
    lease.signal.addEventListener('abort', askHolder, { once: true });
    this.lease = lease;
  }

  async unlock(): Promise<void> {
    const { lease, unsubscribe } = this;
    if (!lease) throw new Error('Releasing an unlocked lock!');
    this.lease = this.unsubscribe = undefined;
    await unsubscribe?.().catch(() => undefined);
    await lease.release();
  }

  /** Takes the lease, asking whoever holds it to let go (again every `askAgainMs`) until the timeout. */
  private async acquire(stopSignal: AbortSignal): Promise<Lease> {
    const { leaseMs, acquireLockTimeoutMs, askAgainMs } = this.options;
    const deadline = Date.now() + acquireLockTimeoutMs;
    const key = `tus:${this.id}`;
    let waitMs = 0;
    for (;;) {
      if (stopSignal.aborted) lockTimeout();
      const lease = await this.locks
        .acquire(key, { leaseMs, waitMs, signal: stopSignal })
        .catch((error: unknown) => {
          if (stopSignal.aborted) lockTimeout();
          throw error;
        });
      if (lease) return lease;
      const left = deadline - Date.now();
      if (left <= 0) lockTimeout();
      await this.bus.publish(this.channel, {});
      waitMs = Math.min(askAgainMs, left);
    }
  }
}

/** @tus/server answers its own error objects (status and body), not Error instances, as MemoryLocker throws them. */
function lockTimeout(): never {
  // eslint-disable-next-line @typescript-eslint/only-throw-error
  throw ERRORS.ERR_LOCK_TIMEOUT;
}
