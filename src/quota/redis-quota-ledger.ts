import { BeforeApplicationShutdown, Logger } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { randomBytes } from 'node:crypto';
import { REDIS_PREFIX } from '../coordination';
import { quotaExceeded } from './quota-errors';
import { InProcessQuotaLedger, QuotaLedger } from './quota-ledger';
import { QuotaReservation } from './quota-reservation';

/** How long a reservation outlives an instance that stops renewing it (kill -9); renewed every third of it. */
export const QUOTA_LEASE_MS = 15_000;

// Per user, KEYS[1] is a hash (reservation id → bytes) and KEYS[2] a sorted set (reservation id → expiry, in ms of
// the Redis clock, so instances' clocks never matter). Each script first drops the expired reservations.
const PURGE = `local t = redis.call('time')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
local expired = redis.call('zrangebyscore', KEYS[2], '-inf', now)
for _, id in ipairs(expired) do redis.call('hdel', KEYS[1], id) redis.call('zrem', KEYS[2], id) end
local function held(except)
  local sum = 0
  local all = redis.call('hgetall', KEYS[1])
  for i = 1, #all, 2 do if all[i] ~= except then sum = sum + tonumber(all[i + 1]) end end
  return sum
end
local function keep(id, bytes, lease)
  redis.call('hset', KEYS[1], id, bytes)
  redis.call('zadd', KEYS[2], now + lease, id)
  redis.call('pexpire', KEYS[1], lease)
  redis.call('pexpire', KEYS[2], lease)
end
`;
/** ARGV: id, bytes, used, limit, lease → {1, others} when used + others + bytes fits the limit (then kept), else {0, others}. */
const RESERVE = `${PURGE}
local others = held(ARGV[1])
if tonumber(ARGV[4]) > 0 and tonumber(ARGV[3]) + others + tonumber(ARGV[2]) > tonumber(ARGV[4]) then
  return {0, others}
end
keep(ARGV[1], ARGV[2], tonumber(ARGV[5]))
return {1, others}`;
/** ARGV: id, lease: keeps a reservation alive while it is there (a released one stays released). */
const RENEW = `${PURGE}
if redis.call('hexists', KEYS[1], ARGV[1]) == 0 then return 0 end
keep(ARGV[1], redis.call('hget', KEYS[1], ARGV[1]), tonumber(ARGV[2]))
return 1`;
const HELD = `${PURGE}
return held('')`;
const RELEASE = `redis.call('hdel', KEYS[1], ARGV[1])
redis.call('zrem', KEYS[2], ARGV[1])
return 1`;

interface Entry {
  userId: string;
  id: string;
  usedBytes: number;
  limitBytes: number;
  /** Bytes last written to Redis; a growth is pushed once the previous push returned. */
  pushed: number;
  pushing?: Promise<void>;
}

/**
 * The quota ledger shared by every instance (REDIS_URL): a reservation is checked and taken by one script, so two
 * instances cannot together hand out more than a user's quota. A growth past the declared size is checked locally
 * at once (as in one instance) and then in Redis against the other instances' reservations; when those left no
 * room, the reservation's next growth is refused. A live instance renews its reservations every third of
 * QUOTA_LEASE_MS; a dead one's expire by themselves.
 */
export class RedisQuotaLedger extends QuotaLedger implements BeforeApplicationShutdown {
  private readonly logger = new Logger(RedisQuotaLedger.name);
  private readonly entries = new Map<QuotaReservation, Entry>();
  /** Without a quota nothing is shared: reservations only count, in this process. */
  private readonly unlimited = new InProcessQuotaLedger();
  private readonly renewal: NodeJS.Timeout;

  constructor(
    private readonly redis: Redis,
    private readonly leaseMs = QUOTA_LEASE_MS,
  ) {
    super();
    this.renewal = setInterval(() => void this.renewAll(), Math.max(1, Math.floor(leaseMs / 3)));
    this.renewal.unref();
  }

  async held(userId: string): Promise<number> {
    return Number(await this.redis.eval(HELD, 2, ...keysOf(userId)));
  }

  async open(
    userId: string,
    usedBytes: number,
    limitBytes: number,
    declared: number,
  ): Promise<QuotaReservation> {
    if (limitBytes <= 0) return this.unlimited.open(userId, usedBytes, limitBytes, declared);
    const id = randomBytes(12).toString('base64url');
    const [ok, others] = (await this.redis.eval(
      RESERVE,
      2,
      ...keysOf(userId),
      id,
      declared,
      usedBytes,
      limitBytes,
      this.leaseMs,
    )) as [number, number];
    const baseline = usedBytes + Number(others);
    if (ok !== 1) throw quotaExceeded(baseline, limitBytes, declared);
    const entry: Entry = { userId, id, usedBytes, limitBytes, pushed: declared };
    const reservation = new QuotaReservation(baseline, limitBytes, declared, {
      onGrow: (grown) => this.push(grown, entry),
      onRelease: (ended) => void this.release(ended, entry),
    });
    this.entries.set(reservation, entry);
    return reservation;
  }

  /** Lets go of every reservation still held, so a graceful shutdown frees its room at once. */
  async beforeApplicationShutdown(): Promise<void> {
    clearInterval(this.renewal);
    await Promise.all([...this.entries.keys()].map((reservation) => this.release(reservation)));
  }

  /** Writes the reservation's growth to Redis, one push at a time (the last one carries the latest size). */
  private push(reservation: QuotaReservation, entry: Entry): void {
    if (entry.pushing) return;
    entry.pushing = (async () => {
      while (this.entries.has(reservation) && reservation.bytes > entry.pushed) {
        const bytes = reservation.bytes;
        const [ok, others] = (await this.redis.eval(
          RESERVE,
          2,
          ...keysOf(entry.userId),
          entry.id,
          bytes,
          entry.usedBytes,
          entry.limitBytes,
          this.leaseMs,
        )) as [number, number];
        if (ok !== 1) {
          const error = quotaExceeded(entry.usedBytes + Number(others), entry.limitBytes, bytes);
          return reservation.refuse(error);
        }
        entry.pushed = bytes;
      }
    })()
      .catch((error: Error) => this.logger.warn(`Quota reservation update failed: ${error.message}`))
      .finally(() => (entry.pushing = undefined));
  }

  private async release(reservation: QuotaReservation, entry = this.entries.get(reservation)): Promise<void> {
    if (!entry || !this.entries.delete(reservation)) return;
    await entry.pushing; // so a growth in flight cannot write the reservation back after it is gone
    // Without Redis now, the reservation expires by itself within a lease.
    await this.redis
      .eval(RELEASE, 2, ...keysOf(entry.userId), entry.id)
      .catch((error: Error) => this.logger.warn(`Releasing a quota reservation failed: ${error.message}`));
  }

  private async renewAll(): Promise<void> {
    if (this.entries.size === 0) return;
    const batch = this.redis.pipeline();
    for (const entry of this.entries.values()) {
      batch.eval(RENEW, 2, ...keysOf(entry.userId), entry.id, this.leaseMs);
    }
    await batch
      .exec()
      .catch((error: Error) => this.logger.warn(`Renewing quota reservations failed: ${error.message}`));
  }
}

/** One user's keys; the braces keep both on one Redis Cluster slot. */
function keysOf(userId: string): [string, string] {
  return [`${REDIS_PREFIX}quota:{${userId}}`, `${REDIS_PREFIX}quota:{${userId}}:expiry`];
}
