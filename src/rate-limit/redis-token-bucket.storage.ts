import type { ThrottlerStorage } from '@nestjs/throttler';
import type { Redis } from 'ioredis';
import { REDIS_PREFIX } from '../coordination';

type ThrottlerStorageRecord = Awaited<ReturnType<ThrottlerStorage['increment']>>;

/**
 * One atomic step of TokenBucketStorage's bucket, in Redis. Tokens are kept in "token-milliseconds" (tokens × ttl),
 * so refills (elapsed ms × limit) and takes (ttl) stay whole numbers and Lua's doubles stay exact. The clock is the
 * Redis server's (one clock for every instance) unless ARGV[3] passes one. A full bucket is the same as none, so
 * the key expires when the bucket would be full again.
 * KEYS[1] bucket; ARGV ttl (ms), limit, now (ms, optional).
 * Returns { blocked (0|1), totalHits, timeToExpire (s), timeToBlockExpire (s) }.
 */
const TAKE_TOKEN = `
local ttl = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
local now = tonumber(ARGV[3])
if not now then
  local time = redis.call('TIME')
  now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
end
local full = limit * ttl
local units = full
local state = redis.call('HMGET', KEYS[1], 'units', 'at')
if state[1] then
  units = math.min(full, tonumber(state[1]) + math.max(0, now - tonumber(state[2])) * limit)
end
local blocked = units < ttl
local left = units
if not blocked then left = units - ttl end
local function ceilDiv(a, b) return math.floor((a + b - 1) / b) end
local msToFull = ceilDiv(full - left, limit)
redis.call('HSET', KEYS[1], 'units', string.format('%.0f', left), 'at', string.format('%.0f', now))
redis.call('PEXPIRE', KEYS[1], math.max(1, msToFull))
if blocked then
  return { 1, limit + 1, ceilDiv(full - left, limit * 1000), ceilDiv(ttl - left, limit * 1000) }
end
return { 0, limit - math.floor(left / ttl), ceilDiv(full - left, limit * 1000), 0 }
`;

type TakeToken = (
  key: string,
  ttl: number,
  limit: number,
  now: number | '',
) => Promise<[number, number, number, number]>;

/**
 * TokenBucketStorage's buckets in Redis (REDIS_URL), shared by every instance: the same burst, refill and
 * Retry-After, counted once across all of them. Each request is one script run, atomic on the server.
 */
export class RedisTokenBucketStorage implements ThrottlerStorage {
  private readonly takeToken: TakeToken;

  constructor(redis: Redis) {
    // A defined command runs by EVALSHA (the script is sent once per connection, not per request).
    redis.defineCommand('mediaUploadTakeToken', { numberOfKeys: 1, lua: TAKE_TOKEN });
    const commands = redis as unknown as { mediaUploadTakeToken: TakeToken };
    this.takeToken = commands.mediaUploadTakeToken.bind(redis);
  }

  async increment(key: string, ttl: number, limit: number): Promise<ThrottlerStorageRecord> {
    const now = this.now();
    const [blocked, totalHits, timeToExpire, timeToBlockExpire] = await this.takeToken(
      `${REDIS_PREFIX}rate:${key}`,
      Math.round(ttl),
      Math.round(limit),
      now === undefined ? '' : Math.round(now),
    );
    return { isBlocked: blocked === 1, totalHits, timeToExpire, timeToBlockExpire };
  }

  /** The clock in milliseconds; undefined uses the Redis server's. A test replaces it. */
  protected now(): number | undefined {
    return undefined;
  }
}
