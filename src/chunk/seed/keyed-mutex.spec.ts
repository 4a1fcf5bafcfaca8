import { setTimeout as sleep } from 'node:timers/promises';
import { KeyedMutex } from './keyed-mutex';

describe('KeyedMutex', () => {
  it('runs critical sections of one key one at a time, in arrival order', async () => {
    const mutex = new KeyedMutex();
    const events: string[] = [];
    const section = (name: string, ms: number) =>
      mutex.run('a', async () => {
        events.push(`${name}:start`);
        await sleep(ms);
        events.push(`${name}:end`);
        return name;
      });
    const results = await Promise.all([section('1', 20), section('2', 1), section('3', 5)]);
    expect(results).toEqual(['1', '2', '3']);
    expect(events).toEqual(['1:start', '1:end', '2:start', '2:end', '3:start', '3:end']);
  });

  it('lets different keys run at the same time', async () => {
    const mutex = new KeyedMutex();
    let inside = 0;
    let most = 0;
    const section = (key: string) =>
      mutex.run(key, async () => {
        inside += 1;
        most = Math.max(most, inside);
        await sleep(10);
        inside -= 1;
      });
    await Promise.all([section('a'), section('b'), section('c')]);
    expect(most).toBe(3);
  });

  it('releases the key when a section throws, and passes the error to its caller only', async () => {
    const mutex = new KeyedMutex();
    const failing = mutex.run('a', () => Promise.reject(new Error('boom')));
    const next = mutex.run('a', () => Promise.resolve('after'));
    await expect(failing).rejects.toThrow('boom');
    await expect(next).resolves.toBe('after');
  });

  it('forgets a key once nobody holds or waits for it', async () => {
    const mutex = new KeyedMutex();
    const held = mutex.run('a', () => sleep(10));
    expect(mutex.isLocked('a')).toBe(true);
    const waiting = mutex.run('a', () => sleep(1));
    await held;
    expect(mutex.isLocked('a')).toBe(true);
    await waiting;
    expect(mutex.isLocked('a')).toBe(false);
    expect(mutex.size).toBe(0);
  });

  it('never lets two sections of one key overlap under many concurrent callers', async () => {
    const mutex = new KeyedMutex();
    let inside = 0;
    let overlaps = 0;
    let count = 0;
    await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        mutex.run('k', async () => {
          inside += 1;
          if (inside > 1) overlaps += 1;
          if (i % 3 === 0) await sleep(1);
          count += 1;
          inside -= 1;
        }),
      ),
    );
    expect(overlaps).toBe(0);
    expect(count).toBe(50);
    expect(mutex.size).toBe(0);
  });
});
