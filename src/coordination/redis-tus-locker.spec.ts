import { ERRORS } from '@tus/utils';
import type { Redis } from 'ioredis';
import { RunningRedis, startEmbeddedRedis } from './embedded-redis-server';
import { connectRedis, quit } from './redis-connection';
import { RedisControlBus } from './redis-control-bus';
import { RedisTusLocker } from './redis-tus-locker';
import { RedisUploadLocks } from './redis-upload-locks';

/** The tus lock-release protocol between two instances (separate connections to one real redis-server). */
describe('RedisTusLocker (real redis-server)', () => {
  let server: RunningRedis;
  let clients: Redis[];
  let buses: RedisControlBus[];
  let locks: RedisUploadLocks[];

  const instance = async (name: string, options = {}) => {
    const client = await connectRedis(server.url, name);
    const bus = await RedisControlBus.connect(client, server.url);
    const uploadLocks = new RedisUploadLocks(client);
    clients.push(client);
    buses.push(bus);
    locks.push(uploadLocks);
    return new RedisTusLocker(uploadLocks, bus, { acquireLockTimeoutMs: 2_000, askAgainMs: 100, ...options });
  };
  const never = () => new AbortController().signal;

  beforeAll(async () => {
    server = await startEmbeddedRedis();
  });
  afterAll(() => server.stop());
  beforeEach(() => {
    clients = [];
    buses = [];
    locks = [];
  });
  afterEach(async () => {
    await Promise.all(locks.map((l) => l.beforeApplicationShutdown()));
    await Promise.all(buses.map((b) => b.onApplicationShutdown()));
    await Promise.all(clients.map(quit));
  });

  it('asks the holder on another instance to release, then hands the lock over', async () => {
    const [a, b] = [await instance('a'), await instance('b')];
    const held = a.newLock('upload-1');
    let asked = 0;
    await held.lock(never(), async () => {
      asked++;
      await held.unlock();
    });
    const started = Date.now();
    await b.newLock('upload-1').lock(never(), () => undefined);
    expect(asked).toBe(1);
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  it('fails with ERR_LOCK_TIMEOUT when the holder does not let go', async () => {
    const [a, b] = [await instance('a'), await instance('b', { acquireLockTimeoutMs: 300 })];
    let asked = 0;
    await a.newLock('stuck').lock(never(), () => void asked++);
    await expect(b.newLock('stuck').lock(never(), () => undefined)).rejects.toBe(ERRORS.ERR_LOCK_TIMEOUT);
    // Asked again while waiting, in case the holder was not listening yet.
    expect(asked).toBeGreaterThanOrEqual(2);
  });

  it('stops waiting when the request is aborted', async () => {
    const [a, b] = [await instance('a'), await instance('b')];
    await a.newLock('busy').lock(never(), () => undefined);
    const stop = new AbortController();
    const waiting = b.newLock('busy').lock(stop.signal, () => undefined);
    setTimeout(() => stop.abort(), 50);
    await expect(waiting).rejects.toBe(ERRORS.ERR_LOCK_TIMEOUT);
  });

  it('asks its own holder to stop when the lease is lost', async () => {
    const a = await instance('a', { leaseMs: 300 });
    let asked = false;
    await a.newLock('lost').lock(never(), () => void (asked = true));
    await clients[0].del('media-upload:lock:tus:lost');
    await clients[0].set('media-upload:lock:tus:lost', 'someone-else');
    const deadline = Date.now() + 2_000;
    while (!asked && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(asked).toBe(true);
  });

  it('refuses to unlock a lock it does not hold, like MemoryLocker', async () => {
    const a = await instance('a');
    await expect(a.newLock('never-locked').unlock()).rejects.toThrow('Releasing an unlocked lock!');
  });
});
