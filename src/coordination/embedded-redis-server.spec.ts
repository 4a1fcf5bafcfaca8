import { Redis } from 'ioredis';
import { findFreePort } from '../embedded/free-port';
import { startEmbeddedRedis } from './embedded-redis-server';

describe('startEmbeddedRedis', () => {
  it('starts a redis-server on 127.0.0.1 that answers, keeps nothing on disk, and stops on demand', async () => {
    const server = await startEmbeddedRedis();
    expect(server.url).toBe(`redis://127.0.0.1:${server.port}`);
    const client = new Redis(server.url, { lazyConnect: true, retryStrategy: () => null });
    await client.connect();
    expect(await client.ping()).toBe('PONG');
    expect(await client.config('GET', 'save')).toEqual(['save', '']);
    expect(await client.config('GET', 'appendonly')).toEqual(['appendonly', 'no']);
    expect(await client.config('GET', 'bind')).toEqual(['bind', '127.0.0.1']);
    const closed = new Promise((resolve) => client.once('end', resolve));
    await server.stop();
    await closed;
    await expect(startEmbeddedRedisOnPort(server.port)).resolves.toBeUndefined();
  });

  it('says plainly when redis-server is missing', async () => {
    await expect(startEmbeddedRedis({ binary: 'redis-server-that-is-not-installed' })).rejects.toThrow(
      /redis-server did not start: redis-server is not installed/,
    );
  });

  it("fails with the server's own words when it cannot listen", async () => {
    const first = await startEmbeddedRedis({ port: await findFreePort() });
    try {
      await expect(startEmbeddedRedis({ port: first.port })).rejects.toThrow(
        /redis-server did not start: .*Address already in use/s,
      );
    } finally {
      await first.stop();
    }
  });
});

/** The port is free again once a server stopped: another one starts there. */
async function startEmbeddedRedisOnPort(port: number): Promise<void> {
  const again = await startEmbeddedRedis({ port });
  await again.stop();
}
