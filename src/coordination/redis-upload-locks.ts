import { BeforeApplicationShutdown, Logger } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { REDIS_PREFIX } from './redis-connection';
import { AcquireOptions, Lease, UploadLocks } from './upload-locks';

/** Extends the lease only while this token still holds it. */
const RENEW = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) end
return 0`;
/** Deletes the key only while this token still holds it, so a late release never frees someone else's lock. */
const RELEASE = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end
return 0`;

/** Between attempts on a held key: short, with jitter so waiters on several instances do not move in step. */
const RETRY_MIN_MS = 20;
const RETRY_JITTER_MS = 40;

/**
 * UploadLocks on Redis: a lock is `SET <key> <random token> NX PX <leaseMs>`, renewed by a heartbeat every third of
 * the lease while held and deleted by a compare-and-delete script. A holder that dies (kill -9, lost network)
 * stops renewing, so its lock frees itself after at most `leaseMs`. When a renewal finds the key gone or taken,
 * or no renewal succeeded for a whole lease, the lease's signal aborts so its holder stops writing.
 */
export class RedisUploadLocks extends UploadLocks implements BeforeApplicationShutdown {
  private readonly held = new Set<HeldLease>();
  private readonly logger = new Logger(RedisUploadLocks.name);

  constructor(private readonly redis: Redis) {
    super();
  }

  async acquire(key: string, { leaseMs, waitMs, signal }: AcquireOptions): Promise<Lease | null> {
    const redisKey = `${REDIS_PREFIX}lock:${key}`;
    const token = randomBytes(16).toString('base64url');
    const deadline = Date.now() + Math.max(0, waitMs);
    for (;;) {
      signal?.throwIfAborted();
      const startedAt = Date.now();
      if ((await this.redis.set(redisKey, token, 'PX', leaseMs, 'NX')) === 'OK') {
        return this.hold(key, redisKey, token, leaseMs, startedAt);
      }
      const left = deadline - Date.now();
      if (left <= 0) return null;
      const pause = Math.min(left, RETRY_MIN_MS + Math.random() * RETRY_JITTER_MS);
      await sleep(pause, undefined, { signal }).catch(() => signal?.throwIfAborted());
    }
  }

  /** Lets go of every lease still held, so a graceful shutdown hands uploads over at once. */
  async beforeApplicationShutdown(): Promise<void> {
    await Promise.all([...this.held].map((lease) => lease.release()));
  }

  private hold(key: string, redisKey: string, token: string, leaseMs: number, startedAt: number): Lease {
    const lease = new HeldLease(key, redisKey, token, leaseMs, startedAt, this.redis, this.logger, () =>
      this.held.delete(lease),
    );
    this.held.add(lease);
    return lease;
  }
}

class HeldLease implements Lease {
  private readonly lost = new AbortController();
  private timer?: NodeJS.Timeout;
  private done = false;

  constructor(
    readonly key: string,
    private readonly redisKey: string,
    private readonly token: string,
    private readonly leaseMs: number,
    /** When the last successful SET/renewal was sent: the key lives at least `leaseMs` from then. */
    private validFrom: number,
    private readonly redis: Redis,
    private readonly logger: Logger,
    private readonly forget: () => void,
  ) {
    this.schedule();
  }

  get signal(): AbortSignal {
    return this.lost.signal;
  }

  async release(): Promise<void> {
    if (this.done) return;
    this.stop();
    await this.redis.eval(RELEASE, 1, this.redisKey, this.token).catch((error: Error) => {
      // The lock then frees itself when its lease runs out.
      this.logger.warn(`Releasing lock ${this.key} failed: ${error.message}`);
    });
  }

  private schedule(): void {
    this.timer = setTimeout(() => void this.renew(), Math.max(1, Math.floor(this.leaseMs / 3)));
    this.timer.unref();
  }

  private async renew(): Promise<void> {
    const sentAt = Date.now();
    try {
      const renewed = await this.redis.eval(RENEW, 1, this.redisKey, this.token, this.leaseMs);
      if (this.done) return;
      if (renewed === 1) this.validFrom = sentAt;
      else return this.lose('the lock expired or was taken over');
    } catch (error) {
      if (this.done) return;
      if (Date.now() - this.validFrom >= this.leaseMs) return this.lose((error as Error).message);
    }
    this.schedule();
  }

  private lose(reason: string): void {
    this.logger.warn(`Lost the lock on ${this.key}: ${reason}`);
    this.stop();
    this.lost.abort(new Error(`Lost the lock on ${this.key}: ${reason}`));
  }

  private stop(): void {
    this.done = true;
    clearTimeout(this.timer);
    this.forget();
  }
}
