import { TokenBucketStorage } from './token-bucket.storage';

class ManualClockStorage extends TokenBucketStorage {
  time = 1_000_000;
  protected override now(): number {
    return this.time;
  }
}

describe('TokenBucketStorage', () => {
  let storage: ManualClockStorage;
  const take = (key = 'user:1') => storage.increment(key, 600_000, 200);

  beforeEach(() => {
    storage = new ManualClockStorage();
  });
  afterEach(() => storage.onModuleDestroy());

  it('lets a whole burst through at once, then refuses with the time to the next token', async () => {
    for (let i = 0; i < 200; i++) expect((await take()).isBlocked).toBe(false);
    const refused = await take();
    expect(refused).toMatchObject({ isBlocked: true, timeToBlockExpire: 3 });
  });

  it('refills at limit/ttl: one token every 3 s for 200 per 600 s, never above the burst', async () => {
    for (let i = 0; i < 200; i++) await take();
    storage.time += 2_999;
    expect((await take()).isBlocked).toBe(true);
    storage.time += 1;
    expect((await take()).isBlocked).toBe(false);
    expect((await take()).isBlocked).toBe(true);

    storage.time += 3_600_000;
    let allowed = 0;
    while (!(await take()).isBlocked) allowed++;
    expect(allowed).toBe(200);
  });

  it('takes no token for a refused request, so retrying at Retry-After succeeds', async () => {
    for (let i = 0; i < 200; i++) await take();
    for (let i = 0; i < 50; i++) await take();
    storage.time += 3_000;
    expect((await take()).isBlocked).toBe(false);
  });

  it('keeps one bucket per key', async () => {
    for (let i = 0; i < 200; i++) await take('user:1');
    expect((await take('user:1')).isBlocked).toBe(true);
    expect((await take('user:2')).isBlocked).toBe(false);
  });
});
