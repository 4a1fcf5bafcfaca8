import { setTimeout as sleep } from 'node:timers/promises';
import { InProcessUploadLocks } from './in-process-upload-locks';

describe('InProcessUploadLocks', () => {
  const options = { leaseMs: 1_000, waitMs: 0 };
  let locks: InProcessUploadLocks;
  beforeEach(() => (locks = new InProcessUploadLocks()));

  it('holds a key for one lease at a time and forgets it when released', async () => {
    const lease = await locks.acquire('k', options);
    expect(await locks.acquire('k', options)).toBeNull();
    await lease!.release();
    await lease!.release();
    expect(locks.isHeld('k')).toBe(false);
    expect(await locks.acquire('k', options)).not.toBeNull();
  });

  it('hands the key to waiters in arrival order', async () => {
    const first = await locks.acquire('k', options);
    const order: number[] = [];
    const waiters = [1, 2, 3].map((n) =>
      locks.acquire('k', { leaseMs: 1_000, waitMs: 1_000 }).then(async (lease) => {
        order.push(n);
        await sleep(1);
        await lease!.release();
      }),
    );
    await first!.release();
    await Promise.all(waiters);
    expect(order).toEqual([1, 2, 3]);
    expect(locks.isHeld('k')).toBe(false);
  });

  it('gives up after waitMs, and rejects when aborted, without taking the key later', async () => {
    const held = await locks.acquire('k', options);
    expect(await locks.acquire('k', { leaseMs: 1_000, waitMs: 20 })).toBeNull();
    const stop = new AbortController();
    const waiting = locks.acquire('k', { leaseMs: 1_000, waitMs: 1_000, signal: stop.signal });
    stop.abort(new Error('gone'));
    await expect(waiting).rejects.toThrow('gone');
    await held!.release();
    expect(locks.isHeld('k')).toBe(false);
  });
});
