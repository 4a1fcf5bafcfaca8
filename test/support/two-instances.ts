import { RunningRedis, startEmbeddedRedis } from '../../src/coordination';
import type { EnvOverrides } from '../../src/config';
import { createTestApp, TestApp } from './test-app';

export interface TwoInstances {
  redis: RunningRedis;
  a: TestApp;
  b: TestApp;
  /** Stops both apps (dropping the shared database and upload folder) and the Redis server. */
  stop(): Promise<void>;
}

/** Two app instances on one database, one upload folder and one embedded Redis (REDIS_URL), as behind a balancer. */
export async function startTwoInstances(env: EnvOverrides = {}): Promise<TwoInstances> {
  const redis = await startEmbeddedRedis();
  const shared = { ...env, REDIS_URL: redis.url };
  const a = await createTestApp({ env: shared });
  const b = await createTestApp({ env: shared, dbName: a.dbName, uploadDir: a.uploadDir });
  return {
    redis,
    a,
    b,
    stop: async () => {
      await b.stop();
      await a.close();
      await redis.stop();
    },
  };
}
