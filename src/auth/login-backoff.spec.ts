import { backoffDelaySeconds, ExpiringMap, secondsToWait } from './login-backoff';

describe('login backoff', () => {
  const policy = { freeFailures: 5, maxDelaySeconds: 900 };

  it('is free for the first failures, then doubles from 1 s up to the cap', () => {
    const delays = Array.from({ length: 18 }, (_, failures) => backoffDelaySeconds(failures, policy));
    expect(delays).toEqual([0, 0, 0, 0, 0, 1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 900, 900, 900]);
  });

  it('counts the wait from the last failure, in whole seconds', () => {
    const record = { failures: 7, lastFailureAt: 10_000 };
    expect(secondsToWait(record, policy, 10_000)).toBe(4);
    expect(secondsToWait(record, policy, 12_500)).toBe(2);
    expect(secondsToWait(record, policy, 14_000)).toBe(0);
    expect(secondsToWait(undefined, policy, 0)).toBe(0);
  });
});

describe('ExpiringMap', () => {
  it('forgets entries after their time to live, and the oldest ones past its size', () => {
    let now = 0;
    const map = new ExpiringMap<number>(2, () => now);
    map.set('a', 1, 1000);
    map.set('b', 2, 5000);
    now = 1000;
    expect(map.get('a')).toBeUndefined();
    expect(map.get('b')).toBe(2);
    map.set('c', 3, 5000);
    map.set('d', 4, 5000);
    expect(map.get('b')).toBeUndefined();
    expect([map.get('c'), map.get('d')]).toEqual([3, 4]);
  });
});
