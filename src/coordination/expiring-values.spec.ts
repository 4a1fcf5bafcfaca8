import type { Redis } from 'ioredis';
import { setTimeout as sleep } from 'node:timers/promises';
import { RunningRedis, startEmbeddedRedis } from './embedded-redis-server';
import { RedisExpiringValues } from './expiring-values';
import { connectRedis, quit } from './redis-connection';

describe('RedisExpiringValues (real redis-server)', () => {
  let server: RunningRedis;
  let client: Redis;

  beforeAll(async () => {
    server = await startEmbeddedRedis();
    client = await connectRedis(server.url, 'expiring-values-spec');
  });
  afterAll(async () => {
    await quit(client);
    await server.stop();
  });

  it('stores JSON under a prefixed, namespaced key, replaces it, and deletes it', async () => {
    const values = new RedisExpiringValues(client, 'views');
    await values.set('u/1', { bytes: 1, at: new Date(0) }, 10_000);
    await values.set('u/1', { bytes: 2, at: new Date(0) }, 10_000);
    expect(await values.get('u/1')).toEqual({ bytes: 2, at: '1970-01-01T00:00:00.000Z' });
    expect(await client.exists('media-upload:views:u/1')).toBe(1);
    expect(await new RedisExpiringValues(client, 'other').get('u/1')).toBeNull();
    await values.delete('u/1');
    expect(await values.get('u/1')).toBeNull();
  });

  it('forgets a value once its time to live has passed', async () => {
    const values = new RedisExpiringValues(client, 'views');
    await values.set('short', 1, 50);
    expect(await values.get('short')).toBe(1);
    const deadline = Date.now() + 2_000;
    while ((await values.get('short')) !== null && Date.now() < deadline) await sleep(10);
    expect(await values.get('short')).toBeNull();
  });
});
