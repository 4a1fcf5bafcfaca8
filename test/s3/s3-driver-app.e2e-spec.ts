import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import request from 'supertest';
import { findFreePort } from '../../src/embedded/free-port';
import type { S3ObjectStore } from '../../src/storage/s3';
import { startUpload, upload, videoParts } from '../media/support/multipart-upload';
import { mediaRecord, progressRecord, waitFor } from '../media/support/stored-state';
import { largeMp4Like, mediaFixtures } from '../support/fixtures';
import { s3AppEnv } from '../support/s3-app';
import { createTestApp, TEST_JWT_SECRET, TestApp, testDatabaseUri, uniqueDbName } from '../support/test-app';
import { registerUser, TestUser } from '../support/users';
import { S3_SETUP_TIMEOUT_MS, TestS3 } from './s3-test-server';
import { processingSettled, withoutDerived } from '../support/processing';

const MiB = 1024 * 1024;
const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

/** The app on STORAGE_DRIVER=s3 against a real versitygw, on a bucket of its own. */
describe('STORAGE_DRIVER=s3: single-request uploads and the library (real versitygw)', () => {
  let s3: TestS3;
  let store: S3ObjectStore;
  let t: TestApp;
  let alice: TestUser;
  let dir: string;
  let large: string;

  const keys = async () => (await store.list('')).map((object) => object.key).sort();

  beforeAll(async () => {
    s3 = await TestS3.start();
    store = await s3.store();
    t = await createTestApp({ env: { ...s3AppEnv(s3, store.bucket), PROGRESS_PERSIST_MS: '100' } });
    alice = await registerUser(t.url, 'alice');
    dir = await mkdtemp(join(tmpdir(), 's3-app-'));
    // Larger than two parts (S3_PART_SIZE 8 MiB), so it goes through a multipart upload.
    large = await largeMp4Like(dir, 20 * MiB);
  }, S3_SETUP_TIMEOUT_MS);
  afterAll(async () => {
    await t?.close();
    await s3?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('the service as it ships refuses to start on a missing bucket, naming it in one line', async () => {
    const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', 'src/main.ts'], {
      cwd: resolve(__dirname, '../..'),
      env: {
        PATH: process.env.PATH,
        NODE_ENV: 'test',
        HOST: '127.0.0.1',
        PORT: String(await findFreePort()),
        MONGODB_URI: testDatabaseUri(),
        MONGODB_DB: uniqueDbName(),
        JWT_SECRET: TEST_JWT_SECRET,
        UPLOAD_DIR: dir,
        ...s3AppEnv(s3, 'no-such-bucket'),
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const [code] = (await once(child, 'exit')) as [number | null];
    expect(code).toBe(1);
    // Exactly that line, like a config error: no stack, no Nest log lines around it.
    expect(stderr).toBe(
      `S3 bucket "no-such-bucket" at ${s3.server.endpoint} is not usable: the bucket does not exist\n`,
    );
  });

  it('stores an upload in the bucket, serves it with Range and ETag, and deletes it', async () => {
    const mp4 = await readFile((await mediaFixtures()).mp4);
    const res = await upload(t.url, {
      parts: [
        { name: 'fileType', value: 'video' },
        { name: 'file', filename: 'clip.mp4', contentType: 'video/mp4', data: mp4 },
      ],
      headers: alice.auth,
    });
    expect(res.status).toBe(201);
    const { uploadId } = res.body as { uploadId: string };
    const key = `media/${alice.id}/${uploadId}.mp4`;
    expect(await mediaRecord(t, uploadId)).toMatchObject({ status: 'completed', storageKey: key });
    expect(withoutDerived(await keys())).toEqual([key]);

    const whole = await request(t.url).get(`/api/media/${uploadId}/content`).set(alice.auth).buffer(true);
    expect(whole.status).toBe(200);
    expect(sha256(whole.body as Buffer)).toBe(sha256(mp4));
    const etag = whole.headers.etag;
    expect(etag).toBe(`"${sha256(mp4)}"`);

    const range = await request(t.url)
      .get(`/api/media/${uploadId}/content`)
      .set({ ...alice.auth, Range: 'bytes=10-99' })
      .buffer(true);
    expect(range.status).toBe(206);
    expect(range.headers['content-range']).toBe(`bytes 10-99/${mp4.length}`);
    expect((range.body as Buffer).equals(mp4.subarray(10, 100))).toBe(true);

    await request(t.url)
      .get(`/api/media/${uploadId}/content`)
      .set({ ...alice.auth, 'If-None-Match': etag })
      .expect(304);

    await processingSettled(t); // a job still running would write its files after the delete, then remove them
    await request(t.url).delete(`/api/media/${uploadId}`).set(alice.auth).expect(200);
    expect(await keys()).toEqual([]);
  });

  it('streams a multi-part upload into one object with the right SHA-256', async () => {
    const res = await upload(t.url, { parts: videoParts(large), headers: alice.auth });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ fileSize: 20 * MiB, checksumSha256: sha256(await readFile(large)) });
    const { uploadId } = res.body as { uploadId: string };
    expect((await store.head(`media/${alice.id}/${uploadId}.mp4`))?.size).toBe(20 * MiB);
    expect(await s3.incompleteUploads(store.bucket)).toBe(0);
    await processingSettled(t);
    await request(t.url).delete(`/api/media/${uploadId}`).set(alice.auth).expect(200);
  });

  it('a cancelled upload leaves no object and no multipart upload', async () => {
    const id = 's3-cancel-0001';
    const running = startUpload(t.url, {
      parts: videoParts(large),
      headers: { ...alice.auth, 'X-Upload-Id': id },
      pauseAt: 10 * MiB,
    });
    await running.paused;
    await waitFor(async () => (await s3.incompleteUploads(store.bucket)) === 1, 'the multipart upload');
    await request(t.url).post(`/api/upload/cancel/${id}`).set(alice.auth).expect(200);
    running.release();
    await running.result;
    await waitFor(async () => (await mediaRecord(t, id))?.status === 'cancelled', 'the record to end');
    await waitFor(async () => (await s3.incompleteUploads(store.bucket)) === 0, 'the upload to be aborted');
    expect(await keys()).toEqual([]);
  });

  it('answers 503 STORAGE_UNAVAILABLE when S3 dies mid-upload, ends the records, and leaves nothing after a restart', async () => {
    const id = 's3-dies-0001';
    const running = startUpload(t.url, {
      parts: videoParts(large),
      headers: { ...alice.auth, 'X-Upload-Id': id },
      pauseAt: 10 * MiB,
    });
    await running.paused;
    await waitFor(async () => (await s3.incompleteUploads(store.bucket)) === 1, 'the multipart upload');
    await s3.server.kill();
    running.release();
    const res = await running.result;
    expect(res.status).toBe(503);
    expect(res.body).toMatchObject({ error: 'STORAGE_UNAVAILABLE' });
    expect(JSON.stringify(res.body)).not.toContain('127.0.0.1');
    expect(await mediaRecord(t, id)).toMatchObject({ status: 'failed' });
    expect(await progressRecord(t, id)).toMatchObject({ status: 'failed' });

    const health = await request(t.url).get('/api/health').expect(503);
    expect(health.body.checks.storage).toEqual({
      status: 'down',
      detail: 'bucket not writable (ECONNREFUSED)',
    });

    await s3.restart();
    // The abort that failed while S3 was down is retried in the background (every 5 s).
    await waitFor(
      async () => (await s3.incompleteUploads(store.bucket)) === 0,
      'the pending abort to be retried',
      20_000,
    );
    expect(await keys()).toEqual([]);
    const healthy = await request(t.url).get('/api/health').expect(200);
    expect(healthy.body.checks).toMatchObject({ storage: { status: 'up' }, disk: { status: 'up' } });
  }, 60_000);
});
