import type { Redis } from 'ioredis';
import { connectRedis, quit, RunningRedis, startEmbeddedRedis } from '../coordination';
import { RedisTokenBucketStorage } from './redis-token-bucket.storage';

/** The clock of the Lua script, set by the test (one clock shared by every "instance", like Redis's own). */
class ManualClock {
  time = 1_000_000;
}

class ManualClockStorage extends RedisTokenBucketStorage {
  constructor(
    redis: Redis,
    private readonly clock: ManualClock,
  ) {
    super(redis);
  }
  protected override now(): number {
    return this.clock.time;
  }
}

/** The same cases as TokenBucketStorage's spec, on a real redis-server, plus two instances sharing buckets. */
describe('RedisTokenBucketStorage (real redis-server)', () => {
  let server: RunningRedis;
  let clients: Redis[];
  let clock: ManualClock;
  let a: ManualClockStorage;
  let b: ManualClockStorage;
  let key: string;
  let n = 0;
  const take = (storage = a, bucket = key) => storage.increment(bucket, 600_000, 200);

  beforeAll(async () => {
    server = await startEmbeddedRedis();
    clients = [await connectRedis(server.url, 'a'), await connectRedis(server.url, 'b')];
  });
  afterAll(async () => {
    await Promise.all(clients.map(quit));
    await server.stop();
  });
  beforeEach(() => {
    clock = new ManualClock();
    a = new ManualClockStorage(clients[0], clock);
    b = new ManualClockStorage(clients[1], clock);
    key = `user:${++n}`;
  });

  it('lets a whole burst through at once, then refuses with the time to the next token', async () => {
    for (let i = 0; i < 200; i++) expect((await take()).isBlocked).toBe(false);
    const refused = await take();
    expect(refused).toEqual({ isBlocked: true, totalHits: 201, timeToExpire: 600, timeToBlockExpire: 3 });
  });

  it('refills at limit/ttl: one token every 3 s for 200 per 600 s, never above the burst', async () => {
    for (let i = 0; i < 200; i++) await take();
    clock.time += 2_999;
    expect((await take()).isBlocked).toBe(true);
    clock.time += 1;
    expect((await take()).isBlocked).toBe(false);
    expect((await take()).isBlocked).toBe(true);

    clock.time += 3_600_000;
    let allowed = 0;
    while (!(await take()).isBlocked) allowed++;
    expect(allowed).toBe(200);
  });

  it('takes no token for a refused request, so retrying at Retry-After succeeds', async () => {
    for (let i = 0; i < 200; i++) await take();
    for (let i = 0; i < 50; i++) await take();
    clock.time += 3_000;
    expect((await take()).isBlocked).toBe(false);
  });

  it('keeps one bucket per key', async () => {
    for (let i = 0; i < 200; i++) await take(a, 'user:x');
    expect((await take(a, 'user:x')).isBlocked).toBe(true);
    expect((await take(a, 'user:y')).isBlocked).toBe(false);
  });

  it('counts one burst across two instances (connections), even when they race', async () => {
    const results = await Promise.all(Array.from({ length: 260 }, (_, i) => take(i % 2 ? a : b)));
    expect(results.filter((result) => !result.isBlocked)).toHaveLength(200);
    expect((await take(b)).timeToBlockExpire).toBe(3);
  });

  it('reports what TokenBucketStorage reports while tokens are left', async () => {
    expect(await take()).toEqual({ isBlocked: false, totalHits: 1, timeToExpire: 3, timeToBlockExpire: 0 });
    expect(await take(b)).toEqual({ isBlocked: false, totalHits: 2, timeToExpire: 6, timeToBlockExpire: 0 });
  });

  it('uses the Redis server clock by default and forgets a bucket once it would be full again', async () => {
    const storage = new RedisTokenBucketStorage(clients[0]);
    expect((await storage.increment('fast', 200, 2)).isBlocked).toBe(false);
    expect((await storage.increment('fast', 200, 2)).isBlocked).toBe(false);
    expect((await storage.increment('fast', 200, 2)).isBlocked).toBe(true);
    const ttl = await clients[1].pttl('media-upload:rate:fast');
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(200);
  });
});
