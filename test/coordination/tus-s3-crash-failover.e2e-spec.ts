import { createReadStream } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { Redis } from 'ioredis';
import mongoose from 'mongoose';
import request from 'supertest';
import { RunningRedis, startEmbeddedRedis } from '../../src/coordination';
import { EnvironmentVariables } from '../../src/config/env.schema';
import type { S3ObjectStore } from '../../src/storage/s3';
import { pieceKey } from '../../src/storage/s3/assembly-state';
import { createTusUpload, OCTETS, runTusClient, sha256File, TUS } from '../chunk/tus-support';
import { S3_SETUP_TIMEOUT_MS, TestS3 } from '../s3/s3-test-server';
import { objectSha256 } from '../s3/tus-s3-support';
import { ChildApp } from '../support/child-app';
import { largeMp4Like } from '../support/fixtures';
import { processingSettled } from '../support/processing';
import { s3AppEnv } from '../support/s3-app';
import { testDatabaseUri } from '../support/test-app';
import { registerUser, TestUser } from '../support/users';
import { waitFor } from '../media/support/stored-state';

const MiB = 1024 * 1024;
const SIZE = 20 * MiB + 17;
/** What instance A has stored when it dies: the first PATCH, sent as a part by the second PATCH. */
const FIRST = 9 * MiB;
/** The app's S3_PART_SIZE (the default, 8 MiB): A stores a PATCH body as pieces of this size as they fill. */
const PART = new EnvironmentVariables().S3_PART_SIZE;
/** How much of the second PATCH A receives before it dies: one whole piece of it, and half a MiB more. */
const SECOND_SENT = PART + 512 * 1024;

/**
 * Two API processes (one database, one Redis, one versitygw bucket) behind an imaginary balancer. Instance A is
 * killed with SIGKILL in the middle of a tus PATCH, holding the upload's tus lock; the client resumes on B.
 */
describe('tus on S3: kill -9 of an instance mid-PATCH, the upload resumes and finishes on another', () => {
  let s3: TestS3;
  let store: S3ObjectStore;
  let redis: RunningRedis;
  let a: ChildApp;
  let b: ChildApp;
  let user: TestUser;
  let dir: string;
  let video: string;

  beforeAll(async () => {
    s3 = await TestS3.start();
    store = await s3.store();
    redis = await startEmbeddedRedis();
    const env = {
      ...s3AppEnv(s3, store.bucket),
      REDIS_URL: redis.url,
      MAX_RESUMABLE_BYTES: String(64 * MiB),
    };
    a = await ChildApp.create('tus-s3-a', env);
    b = await ChildApp.create('tus-s3-b', { ...env, MONGODB_DB: a.dbName });
    await Promise.all([a.start(), b.start()]);
    user = await registerUser(a.url, 'failover');
    dir = await mkdtemp(join(tmpdir(), 'tus-s3-failover-'));
    video = await largeMp4Like(dir, SIZE);
  }, S3_SETUP_TIMEOUT_MS);
  afterAll(async () => {
    await a?.dispose();
    await b?.dispose();
    await redis?.stop();
    await s3?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('HEAD on B answers what A stored, tus-js-client finishes on B, SHA-256 identical, A’s lease freed itself, nothing else left', async () => {
    const expected = await sha256File(video);
    const id = await createTusUpload(a.url, user.auth, SIZE);
    const lockKey = `media-upload:lock:tus:${id}`;

    await request(a.url)
      .patch(`/api/tus/${id}`)
      .set({ ...user.auth, ...TUS, ...OCTETS, 'Upload-Offset': '0' })
      .send((await readFile(video)).subarray(0, FIRST))
      .expect(204);

    // The second PATCH sends SECOND_SENT bytes, then stalls (a phone on a bad network): A is mid-PATCH.
    const stalled = Readable.from(
      (async function* () {
        yield* createReadStream(video, { start: FIRST, end: FIRST + SECOND_SENT - 1 });
        await new Promise(() => undefined);
      })(),
    );
    const second = http.request(`${a.url}/api/tus/${id}`, {
      method: 'PATCH',
      headers: { ...user.auth, ...TUS, ...OCTETS, 'Upload-Offset': String(FIRST) },
    });
    second.on('error', () => undefined); // A is about to vanish
    stalled.pipe(second);
    // A has sent the first PATCH as a part and stored the second one's first PART bytes as a piece.
    const piece = pieceKey(`tus/${id}`, FIRST);
    await waitFor(async () => (await store.head(piece))?.size === PART, 'the whole piece', 30_000);
    await waitFor(async () => (await partsUnder(store, `tus/${id}`)) >= 1, 'the first part', 30_000);

    await a.crash();
    stalled.destroy();
    second.destroy();
    const admin = new Redis(redis.url);
    try {
      expect(await admin.pttl(lockKey)).toBeGreaterThan(0); // held by the dead instance

      // B waits for the dead instance's lease to run out (10 s), then answers what is in the bucket.
      const startedAt = Date.now();
      const head = await request(b.url)
        .head(`/api/tus/${id}`)
        .set({ ...user.auth, ...TUS })
        .expect(200);
      const waited = Date.now() - startedAt;
      expect(waited).toBeLessThan(20_000);
      // The stalled PATCH's whole piece is kept (tus lets a server keep what arrived); the half MiB after it is not.
      expect(head.headers['upload-offset']).toBe(String(FIRST + PART));
      expect(head.headers['upload-length']).toBe(String(SIZE));

      const methods: string[] = [];
      await runTusClient({
        file: createReadStream(video),
        uploadUrl: `${b.url}/api/tus/${id}`,
        endpoint: `${b.url}/api/tus`,
        headers: user.auth,
        chunkSize: 6 * MiB,
        retryDelays: [],
        onBeforeRequest: (req) => void methods.push(req.getMethod()),
      });
      expect(methods).toEqual(['HEAD', 'PATCH']);
      expect(await admin.exists(lockKey)).toBe(0);
    } finally {
      await admin.quit();
    }

    const connection = await mongoose.createConnection(testDatabaseUri(), { dbName: a.dbName }).asPromise();
    try {
      // The media object and, once its processing is over, the files derived from it: nothing else.
      await processingSettled({ connection });
      const record = await connection.collection('media_uploads').findOne({ uploadId: id });
      expect(record).toMatchObject({ status: 'completed', fileSize: SIZE, checksumSha256: expected });
      const key = String(record?.storageKey);
      expect(await objectSha256(store, key)).toBe(expected);
      const derived = Object.values((record?.derived ?? {}) as Record<string, { key: string }>).map(
        (f) => f.key,
      );
      expect((await store.list('')).map((object) => object.key).sort()).toEqual([key, ...derived].sort());
      expect(await s3.incompleteUploads(store.bucket)).toBe(0);
    } finally {
      await connection.close();
    }
  }, 180_000);
});

/** Parts S3 holds of the unfinished multipart upload at exactly `key`. */
async function partsUnder(store: S3ObjectStore, key: string): Promise<number> {
  const uploads = (await store.listIncompleteUploads(key)).filter((u) => u.key === key);
  const parts = await Promise.all(uploads.map((upload) => store.listParts(upload)));
  return parts.reduce((total, list) => total + list.length, 0);
}
