import type { Redis } from 'ioredis';
import { REDIS_PREFIX } from './redis-connection';

/**
 * Small JSON values in one namespace of Redis, each expiring by itself (SET … PX): state one instance shows the
 * others that must vanish on its own when the instance stops refreshing it (or dies).
 */
export class RedisExpiringValues {
  constructor(
    private readonly redis: Redis,
    private readonly namespace: string,
  ) {}

  /** Stores `value` (JSON) under `key` for `ttlMs`, replacing any earlier value and its expiry. */
  async set(key: string, value: unknown, ttlMs: number): Promise<void> {
    await this.redis.set(this.name(key), JSON.stringify(value), 'PX', ttlMs);
  }

  /** The value, or null once it expired or was deleted. Dates come back as ISO strings (JSON). */
  async get<T>(key: string): Promise<T | null> {
    const raw = await this.redis.get(this.name(key));
    return raw === null ? null : (JSON.parse(raw) as T);
  }

  async delete(key: string): Promise<void> {
    await this.redis.del(this.name(key));
  }

  private name(key: string): string {
    return `${REDIS_PREFIX}${this.namespace}:${key}`;
  }
}
