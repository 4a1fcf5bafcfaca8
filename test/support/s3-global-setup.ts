import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { RunningS3Server, startEmbeddedS3Server } from '../../src/storage/s3';
import { SHARED_S3_ENV, SharedS3 } from './test-storage';

declare global {
  var __TEST_S3_SERVER__: RunningS3Server | undefined;
}

/**
 * The e2e-s3 project's global setup (Jest runs it only when that project has tests to run): one versitygw per run,
 * started with the same launcher the app uses; every test app gets a bucket of its own on it (test-app.ts).
 */
export default async function s3GlobalSetup(): Promise<void> {
  const dataDir = await mkdtemp(join(tmpdir(), 'media-upload-tests3-'));
  const server = await startEmbeddedS3Server({
    dataDir,
    cacheDir: resolve(process.env.EMBEDDED_DB_CACHE_DIR ?? resolve(__dirname, '../../.cache')),
    log: () => undefined,
    buildLog: (line) => process.stderr.write(`[test s3] ${line}\n`),
  });
  globalThis.__TEST_S3_SERVER__ = server;
  const shared: SharedS3 = {
    endpoint: server.endpoint,
    region: server.region,
    credentials: server.credentials,
    dataDir,
  };
  // Workers are forked after global setup and inherit this.
  process.env[SHARED_S3_ENV] = JSON.stringify(shared);
}
