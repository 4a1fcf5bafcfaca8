import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { RunningServer, startEmbeddedMongoServer } from '../../src/database/embedded-mongo-server';

declare global {
  var __TEST_DB_SERVER__: RunningServer | undefined;
}

/**
 * One database server per test run, started with the same launcher the app uses. With MONGODB_URI set, the
 * tests use that server instead; each test file still gets a database of its own (see test-app.ts).
 */
export default async function globalSetup(): Promise<void> {
  if (process.env.MONGODB_URI) return;
  const dataDir = await mkdtemp(join(tmpdir(), 'media-upload-testdb-'));
  const server = await startEmbeddedMongoServer({
    dataDir,
    cacheDir: resolve(process.env.EMBEDDED_DB_CACHE_DIR ?? resolve(__dirname, '../../.cache')),
    log: (message) => process.stderr.write(`[test db] ${message}\n`),
  });
  globalThis.__TEST_DB_SERVER__ = server;
  // Workers are forked after global setup and inherit this.
  process.env.TEST_MONGODB_URI = server.uri;
}
