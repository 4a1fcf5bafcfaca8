import type { Redis } from 'ioredis';
import { setTimeout as sleep } from 'node:timers/promises';
import { ControlBus, ControlMessage, InProcessControlBus } from './control-bus';
import { RunningRedis, startEmbeddedRedis } from './embedded-redis-server';
import { connectRedis, quit } from './redis-connection';
import { RedisControlBus } from './redis-control-bus';

/** Collects what a handler receives, and waits for it. */
function inbox() {
  const received: ControlMessage[] = [];
  return {
    received,
    handler: (message: ControlMessage) => received.push(message),
    until: async (count: number) => {
      const deadline = Date.now() + 3_000;
      while (received.length < count && Date.now() < deadline) await sleep(5);
      return received;
    },
  };
}

describe('RedisControlBus (real redis-server)', () => {
  let server: RunningRedis;
  let publishers: Redis[];
  let a: RedisControlBus;
  let b: RedisControlBus;

  beforeAll(async () => {
    server = await startEmbeddedRedis();
  });
  afterAll(() => server.stop());
  beforeEach(async () => {
    publishers = [await connectRedis(server.url, 'a'), await connectRedis(server.url, 'b')];
    a = await RedisControlBus.connect(publishers[0], server.url);
    b = await RedisControlBus.connect(publishers[1], server.url);
  });
  afterEach(async () => {
    await Promise.all([a.onApplicationShutdown(), b.onApplicationShutdown()]);
    await Promise.all(publishers.map(quit));
  });

  it('delivers a message published on one connection to subscribers on both', async () => {
    const onA = inbox();
    const onB = inbox();
    await a.subscribe('cancel', onA.handler);
    await b.subscribe('cancel', onB.handler);
    await b.publish('cancel', { uploadId: 'u1', reason: 'user' });
    expect(await onA.until(1)).toEqual([{ uploadId: 'u1', reason: 'user' }]);
    expect(await onB.until(1)).toEqual([{ uploadId: 'u1', reason: 'user' }]);
  });

  it('keeps channels apart and stops delivering after unsubscribe', async () => {
    const first = inbox();
    const second = inbox();
    const stopFirst = await a.subscribe('progress', first.handler);
    await a.subscribe('progress', second.handler);
    const other = inbox();
    await a.subscribe('elsewhere', other.handler);

    await b.publish('progress', { n: 1 });
    await second.until(1);
    await stopFirst();
    await b.publish('progress', { n: 2 });
    expect(await second.until(2)).toEqual([{ n: 1 }, { n: 2 }]);
    expect(first.received).toEqual([{ n: 1 }]);
    expect(other.received).toEqual([]);
  });

  it('a failing handler does not stop the others', async () => {
    const ok = inbox();
    await a.subscribe('c', () => {
      throw new Error('boom');
    });
    await a.subscribe('c', ok.handler);
    await b.publish('c', { x: true });
    expect(await ok.until(1)).toEqual([{ x: true }]);
  });
});

describe('InProcessControlBus', () => {
  const bus: ControlBus = new InProcessControlBus();

  it('delivers copies asynchronously, and nothing after unsubscribe', async () => {
    const got = inbox();
    const stop = await bus.subscribe('c', got.handler);
    const message = { n: 1 };
    await bus.publish('c', message);
    expect(got.received).toEqual([]);
    expect(await got.until(1)).toEqual([{ n: 1 }]);
    expect(got.received[0]).not.toBe(message);
    await stop();
    await bus.publish('c', { n: 2 });
    await sleep(20);
    expect(got.received).toHaveLength(1);
  });
});
