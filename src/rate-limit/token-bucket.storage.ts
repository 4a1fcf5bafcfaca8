import type { OnModuleDestroy } from '@nestjs/common';
import type { ThrottlerStorage } from '@nestjs/throttler';

type ThrottlerStorageRecord = Awaited<ReturnType<ThrottlerStorage['increment']>>;

interface Bucket {
  tokens: number;
  updatedAt: number;
  /** When the bucket is full again and can be forgotten. */
  fullAt: number;
}

const SWEEP_INTERVAL_MS = 60_000;

/**
 * Token buckets behind @nestjs/throttler's storage interface: a throttler's `limit` is the bucket size (the burst),
 * and an empty bucket refills completely in `ttl` ms, one token at a time. Unlike the library's fixed window, a
 * burst of `limit` requests is fine and a client that keeps going is slowed to the refill rate, with a
 * `Retry-After` of the time to the next token rather than to the end of a window. Refused requests take no token.
 * Buckets live in process memory; a shared store (Redis) is another class with this interface.
 */
export class TokenBucketStorage implements ThrottlerStorage, OnModuleDestroy {
  private readonly buckets = new Map<string, Bucket>();
  private readonly sweeper = setInterval(() => this.forgetFull(), SWEEP_INTERVAL_MS).unref();

  increment(key: string, ttl: number, limit: number): Promise<ThrottlerStorageRecord> {
    const now = this.now();
    // Multiply before dividing, so whole milliseconds give whole tokens exactly.
    const tokensIn = (ms: number) => (ms * limit) / ttl;
    const msFor = (tokens: number) => (tokens * ttl) / limit;
    const bucket = this.buckets.get(key);
    const tokens = bucket ? Math.min(limit, bucket.tokens + tokensIn(now - bucket.updatedAt)) : limit;
    const isBlocked = tokens < 1;
    const left = isBlocked ? tokens : tokens - 1;
    const fullAt = now + msFor(limit - left);
    this.buckets.set(key, { tokens: left, updatedAt: now, fullAt });
    return Promise.resolve({
      totalHits: isBlocked ? limit + 1 : limit - Math.floor(left),
      timeToExpire: Math.ceil((fullAt - now) / 1000),
      isBlocked,
      timeToBlockExpire: isBlocked ? Math.ceil(msFor(1 - left) / 1000) : 0,
    });
  }

  onModuleDestroy(): void {
    clearInterval(this.sweeper);
  }

  /** The clock (milliseconds); a unit test replaces it. */
  protected now(): number {
    return Date.now();
  }

  /** A full bucket is the same as none: drop it so idle clients cost no memory. */
  private forgetFull(): void {
    const now = this.now();
    for (const [key, bucket] of this.buckets) if (bucket.fullAt <= now) this.buckets.delete(key);
  }
}
