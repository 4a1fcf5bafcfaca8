import type { Redis } from 'ioredis';
import { setTimeout as sleep } from 'node:timers/promises';
import { connectRedis, quit, RunningRedis, startEmbeddedRedis } from '../coordination';
import { ApiError } from '../common/errors/api-error';
import { RedisQuotaLedger } from './redis-quota-ledger';

const LIMIT = 1_000;

/** Two instances: separate connections (and ledgers) on one real redis-server. */
describe('RedisQuotaLedger (real redis-server)', () => {
  let server: RunningRedis;
  let clientA: Redis;
  let clientB: Redis;
  let a: RedisQuotaLedger;
  let b: RedisQuotaLedger;
  let user = 0;
  const nextUser = () => `user-${++user}`;

  beforeAll(async () => {
    server = await startEmbeddedRedis();
  });
  afterAll(() => server.stop());
  beforeEach(async () => {
    clientA = await connectRedis(server.url, 'instance-a');
    clientB = await connectRedis(server.url, 'instance-b');
    a = new RedisQuotaLedger(clientA, 600);
    b = new RedisQuotaLedger(clientB, 600);
  });
  afterEach(async () => {
    await Promise.all([a.beforeApplicationShutdown(), b.beforeApplicationShutdown()]);
    await Promise.all([quit(clientA), quit(clientB)]);
  });

  it('refuses a declared size that does not fit beside another instance’s reservation (413 QUOTA_EXCEEDED)', async () => {
    const id = nextUser();
    const first = await a.open(id, 100, LIMIT, 600);
    expect(first.baseline).toBe(100);
    const refused = b.open(id, 100, LIMIT, 400);
    await expect(refused).rejects.toBeInstanceOf(ApiError);
    await expect(refused).rejects.toMatchObject({
      response: { error: 'QUOTA_EXCEEDED', usedBytes: 700, limitBytes: LIMIT, requestedBytes: 400 },
    });
    expect(await b.held(id)).toBe(600);
    first.release();
    await until(async () => (await b.held(id)) === 0);
    expect((await b.open(id, 100, LIMIT, 400)).baseline).toBe(100);
  });

  it('lets exactly one of 20 parallel reservations on two instances through when only one fits', async () => {
    const id = nextUser();
    const results = await Promise.allSettled(
      Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).open(id, 0, LIMIT, 600)),
    );
    expect(results.filter((result) => result.status === 'fulfilled')).toHaveLength(1);
    expect(await a.held(id)).toBe(600);
  });

  it('shares growth past the declared size: the other instance sees it, and a growth that no longer fits is refused', async () => {
    const id = nextUser();
    const growing = await a.open(id, 0, LIMIT, 0);
    const other = await b.open(id, 0, LIMIT, 0);
    growing.grow(700);
    await until(async () => (await b.held(id)) === 700);
    // Both started with room for 1000; B's growth is checked in Redis against A's 700, so a later growth throws.
    let next = 500;
    await until(() => {
      try {
        other.grow(++next);
        return Promise.resolve(false);
      } catch (error) {
        expect((error as ApiError).getResponse()).toMatchObject({ error: 'QUOTA_EXCEEDED' });
        return Promise.resolve(true);
      }
    });
    expect(next).toBeLessThan(LIMIT - 700 + 300); // refused by the shared ledger, not by its own baseline of 0
    expect(await b.held(id)).toBe(700);
  });

  it('a reservation of an instance that stopped renewing (killed) expires after its lease', async () => {
    const id = nextUser();
    const clientC = await connectRedis(server.url, 'instance-c');
    const dead = new RedisQuotaLedger(clientC, 600);
    await dead.open(id, 0, LIMIT, 900);
    await sleep(900); // longer than the lease: its renewals kept it
    expect(await b.held(id)).toBe(900);
    clientC.disconnect(); // like kill -9: no release, no renewal
    await until(async () => (await b.held(id)) === 0);
    expect((await b.open(id, 0, LIMIT, LIMIT)).bytes).toBe(LIMIT);
    await dead.beforeApplicationShutdown();
  });
});
async function until(condition: () => Promise<boolean>, timeoutMs = 2_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await sleep(20);
  }
}
