import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import request from 'supertest';
import { RunningServer, startEmbeddedMongoServer } from '../../src/database/embedded-mongo-server';
import { findFreePort } from '../../src/embedded/free-port';
import { startUpload, upload, videoParts } from '../media/support/multipart-upload';
import { tmpFiles, waitForPartial } from '../media/support/stored-state';
import { largeMp4Like } from '../support/fixtures';
import { storedKeys } from '../support/stored-objects';
import { createTestApp, TestApp } from '../support/test-app';
import { registerUser } from '../support/users';
import { eventually } from './support/fault-support';

/** A database server of this file's own, so it can be stopped and started again under the running app. */
async function startDatabase(dataDir: string, port: number): Promise<RunningServer> {
  return startEmbeddedMongoServer({
    dataDir,
    port,
    cacheDir: resolve(process.env.EMBEDDED_DB_CACHE_DIR ?? resolve(__dirname, '../../.cache')),
    log: () => undefined,
  });
}

// With MONGODB_URI the tests share a server they must not stop.
const withOwnDatabase = process.env.MONGODB_URI ? describe.skip : describe;

withOwnDatabase('The database going down mid-upload', () => {
  let dataDir: string;
  let port: number;
  let db: RunningServer;
  let dbUp = false;
  let t: TestApp;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'media-upload-dbdown-'));
    port = await findFreePort();
    db = await startDatabase(dataDir, port);
    dbUp = true;
    t = await createTestApp({ env: { MONGODB_URI: db.uri, PROGRESS_PERSIST_MS: '200' } });
  }, 90_000);
  afterAll(async () => {
    // If the test failed while the database was down, bring it back so the app can close (and drop its data).
    if (!dbUp && db) db = await startDatabase(dataDir, port);
    await t?.close();
    await db?.stop();
    await rm(dataDir, { recursive: true, force: true });
  }, 90_000);

  it('answers 503 SERVICE_UNAVAILABLE, removes the partial file, and recovers when the database is back', async () => {
    const user = await registerUser(t.url, 'dbdown');
    const video = await largeMp4Like(dataDir, 512 * 1024);
    const running = startUpload(t.url, {
      headers: { ...user.auth, 'X-Upload-Id': 'db-down-0001' },
      parts: videoParts(video),
      pauseAt: 256 * 1024,
    });
    await running.paused;
    await waitForPartial(t, 'db-down-0001');

    await db.stop();
    dbUp = false;
    running.release();
    const res = await running.result;
    expect(res.status).toBe(503);
    expect(res.body).toMatchObject({ success: false, error: 'SERVICE_UNAVAILABLE' });
    expect(await tmpFiles(t)).toEqual([]);
    expect(await storedKeys(t, 'media/')).toEqual([]);
    // Other routes say so too, instead of a 500.
    const health = await request(t.url).get('/api/health');
    expect(health.status).toBe(503);

    db = await startDatabase(dataDir, port);
    dbUp = true;
    await eventually(
      async () => (await request(t.url).get('/api/health')).status === 200,
      'the app to reconnect',
      45_000,
    );
    const again = await upload(t.url, {
      headers: user.auth,
      parts: videoParts(video),
    });
    expect(again.status).toBe(201);
  }, 120_000);
});
