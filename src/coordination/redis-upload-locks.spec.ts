import type { Redis } from 'ioredis';
import { setTimeout as sleep } from 'node:timers/promises';
import { RunningRedis, startEmbeddedRedis } from './embedded-redis-server';
import { connectRedis, quit } from './redis-connection';
import { RedisUploadLocks } from './redis-upload-locks';

/** Two instances: separate connections to one real redis-server. */
describe('RedisUploadLocks (real redis-server)', () => {
  let server: RunningRedis;
  let clientA: Redis;
  let clientB: Redis;
  let a: RedisUploadLocks;
  let b: RedisUploadLocks;

  beforeAll(async () => {
    server = await startEmbeddedRedis();
  });
  afterAll(() => server.stop());
  beforeEach(async () => {
    clientA = await connectRedis(server.url, 'instance-a');
    clientB = await connectRedis(server.url, 'instance-b');
    a = new RedisUploadLocks(clientA);
    b = new RedisUploadLocks(clientB);
  });
  afterEach(async () => {
    await Promise.all([a.beforeApplicationShutdown(), b.beforeApplicationShutdown()]);
    await Promise.all([quit(clientA), quit(clientB)]);
  });

  it('gives a key to one holder at a time across two connections', async () => {
    const held = await a.acquire('upload-1', { leaseMs: 5_000, waitMs: 0 });
    expect(held).not.toBeNull();
    expect(await b.acquire('upload-1', { leaseMs: 5_000, waitMs: 0 })).toBeNull();
    expect(await b.acquire('upload-2', { leaseMs: 5_000, waitMs: 0 })).not.toBeNull();
    await held!.release();
    expect(await b.acquire('upload-1', { leaseMs: 5_000, waitMs: 0 })).not.toBeNull();
  });

  it('never lets two holders into one critical section (20 racers on two connections)', async () => {
    let inside = 0;
    let most = 0;
    let entered = 0;
    const racer = async (locks: RedisUploadLocks) => {
      const lease = await locks.acquire('busy', { leaseMs: 5_000, waitMs: 10_000 });
      if (!lease) throw new Error('timed out');
      inside++;
      most = Math.max(most, inside);
      entered++;
      await sleep(5);
      inside--;
      await lease.release();
    };
    await Promise.all(Array.from({ length: 20 }, (_, i) => racer(i % 2 ? a : b)));
    expect(entered).toBe(20);
    expect(most).toBe(1);
  });

  it('a waiter gets the key as soon as the holder releases it', async () => {
    const held = await a.acquire('handover', { leaseMs: 5_000, waitMs: 0 });
    const waiting = b.acquire('handover', { leaseMs: 5_000, waitMs: 5_000 });
    await sleep(100);
    const releasedAt = Date.now();
    await held!.release();
    expect(await waiting).not.toBeNull();
    expect(Date.now() - releasedAt).toBeLessThan(1_000);
  });

  it('gives up after waitMs, and rejects when the wait is aborted', async () => {
    await a.acquire('held', { leaseMs: 5_000, waitMs: 0 });
    const started = Date.now();
    expect(await b.acquire('held', { leaseMs: 5_000, waitMs: 200 })).toBeNull();
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);

    const stop = new AbortController();
    const waiting = b.acquire('held', { leaseMs: 5_000, waitMs: 5_000, signal: stop.signal });
    stop.abort(new Error('client went away'));
    await expect(waiting).rejects.toThrow('client went away');
  });

  it("keeps a live holder's lock past its lease by renewing it", async () => {
    const held = await a.acquire('long', { leaseMs: 300, waitMs: 0 });
    await sleep(1_000);
    expect(await b.acquire('long', { leaseMs: 300, waitMs: 0 })).toBeNull();
    expect(held!.signal.aborted).toBe(false);
  });

  it('frees the lock of a dead holder (its connection gone) once the lease runs out', async () => {
    const held = await a.acquire('orphan', { leaseMs: 500, waitMs: 0 });
    expect(held).not.toBeNull();
    const diedAt = Date.now();
    clientA.disconnect();
    expect(await b.acquire('orphan', { leaseMs: 500, waitMs: 0 })).toBeNull();
    const taken = await b.acquire('orphan', { leaseMs: 500, waitMs: 3_000 });
    expect(taken).not.toBeNull();
    const after = Date.now() - diedAt;
    expect(after).toBeGreaterThanOrEqual(300);
    expect(after).toBeLessThan(2_500);
    // The dead holder's side also knows it lost the lock (no renewal for a whole lease).
    await waitFor(() => held!.signal.aborted);
  });

  it("aborts the holder's signal when its lease is lost, and its late release frees nothing", async () => {
    const held = await a.acquire('stolen', { leaseMs: 300, waitMs: 0 });
    // Another party deletes the key (as an expiry during a long pause would): the next renewal finds it gone.
    await clientB.del('media-upload:lock:stolen');
    const thief = await b.acquire('stolen', { leaseMs: 5_000, waitMs: 0 });
    expect(thief).not.toBeNull();
    await waitFor(() => held!.signal.aborted);
    expect((held!.signal.reason as Error).message).toMatch(/Lost the lock on stolen/);
    await held!.release();
    expect(await a.acquire('stolen', { leaseMs: 5_000, waitMs: 0 })).toBeNull();
  });

  it('lets go of every held lease at shutdown', async () => {
    await a.acquire('shutdown-1', { leaseMs: 60_000, waitMs: 0 });
    await a.acquire('shutdown-2', { leaseMs: 60_000, waitMs: 0 });
    await a.beforeApplicationShutdown();
    expect(await b.acquire('shutdown-1', { leaseMs: 5_000, waitMs: 0 })).not.toBeNull();
    expect(await b.acquire('shutdown-2', { leaseMs: 5_000, waitMs: 0 })).not.toBeNull();
  });
});

async function waitFor(condition: () => boolean, timeoutMs = 3_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(10);
  }
}
