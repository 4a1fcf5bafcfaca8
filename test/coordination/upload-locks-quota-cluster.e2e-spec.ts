import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { Types } from 'mongoose';
import { RunningRedis, startEmbeddedRedis } from '../../src/coordination';
import { newFileId, postChunk, sha256, split, waitFor } from '../chunk/seed-support';
import { startUpload, videoParts } from '../media/support/multipart-upload';
import { ChildApp } from '../support/child-app';
import { largeMp4Like, mediaFixtures } from '../support/fixtures';
import { readStored, storedNames } from '../support/stored-objects';
import { createTestApp, TestApp } from '../support/test-app';
import { registerUser, TestUser } from '../support/users';

const QUOTA = 6 * 1024 * 1024;
/** Chunk and upload buckets big enough that the rate limit never answers here. */
const UNTHROTTLED = { THROTTLE_CHUNK_LIMIT: '1000000', THROTTLE_UPLOAD_LIMIT: '1000000' };

describe('One writer per upload and one quota across two instances (one DB, one Redis)', () => {
  let redis: RunningRedis;
  let a: TestApp;
  let b: TestApp;
  let user: TestUser;
  let webm: Buffer;
  let work: string;

  beforeAll(async () => {
    redis = await startEmbeddedRedis();
    const env = { REDIS_URL: redis.url, USER_QUOTA_BYTES: String(QUOTA), ...UNTHROTTLED };
    a = await createTestApp({ env });
    b = await createTestApp({ env, dbName: a.dbName, uploadDir: a.uploadDir });
    user = await registerUser(a.url, 'cluster');
    webm = await readFile((await mediaFixtures()).webm);
    work = await mkdtemp(join(tmpdir(), 'cluster-quota-'));
  });
  afterAll(async () => {
    await b?.stop();
    await a?.close();
    await redis?.stop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  const session = (fileId: string) =>
    a.connection.collection('chunk_sessions').findOne({ fileId, userId: new Types.ObjectId(user.id) });

  it('seed chunks: 20 parallel requests, each chunk racing on A and B at once, commit every chunk exactly once', async () => {
    const fileId = newFileId('cluster');
    const body = Buffer.concat([webm, randomBytes(600 * 1024)]);
    const pieces = split(body, 10);
    const replies = await Promise.all(
      [...pieces, ...pieces].map((piece, i) =>
        postChunk(
          i < 10 === (i % 2 === 0) ? a.url : b.url, // each index goes to A once and to B once
          user.token,
          { fileId, chunkIndex: i % 10, status: 'uploading', totalChunks: 10 },
          piece,
          i % 3 === 0 ? { order: 'file-first' } : { pieceBytes: 32 * 1024, delayMs: 1 },
        ),
      ),
    );
    expect(replies.map((reply) => reply.status)).toEqual(Array(20).fill(200));
    expect(new Set(replies.map((reply) => reply.body.data.uploadId)).size).toBe(1);
    // Per index exactly one of the two copies was committed, the other answered as a duplicate.
    for (let index = 0; index < 10; index++) {
      const copies = replies.filter((reply) => reply.body.data.chunkIndex === index);
      expect(copies.map((reply) => reply.body.data.duplicate as boolean).sort()).toEqual([false, true]);
    }
    expect(await session(fileId)).toMatchObject({
      receivedCount: 10,
      nextIndex: 10,
      bytesReceived: body.length,
      status: 'uploading',
    });
    expect(await a.connection.collection('chunk_sessions').countDocuments({ fileId })).toBe(1);

    const done = await postChunk(
      b.url,
      user.token,
      { fileId, chunkIndex: 9, status: 'completed' },
      undefined,
    );
    expect(done.status).toBe(200);
    const { uploadId } = done.body.data as { uploadId: string };
    expect(done.body.data).toMatchObject({ fileSize: body.length, checksumSha256: sha256(body) });
    expect(sha256(await readStored(a, `media/${user.id}/${uploadId}.webm`))).toBe(sha256(body));
    expect(await storedNames(a, 'tmp')).toEqual([]);
  });

  it('quota: two uploads of one user streaming into A and B at once, together over the quota: one 413, one stored', async () => {
    const owner = await registerUser(b.url, 'quota');
    const clip = await largeMp4Like(work, 4 * 1024 * 1024); // each fits the 6 MiB quota alone, not both
    const start = (app: TestApp, uploadId: string) =>
      startUpload(app.url, {
        parts: videoParts(clip),
        headers: { ...owner.auth, 'X-Upload-Id': uploadId },
        chunkSize: 64 * 1024,
        delayMs: 2,
      }).result;
    const results = await Promise.all([start(a, 'cluster-quota-a'), start(b, 'cluster-quota-b')]);

    const refused = results.filter((result) => result.status === 413);
    const stored = results.filter((result) => result.status === 201);
    expect(refused).toHaveLength(1);
    expect(stored).toHaveLength(1);
    expect(refused[0].body).toMatchObject({ error: 'QUOTA_EXCEEDED', limitBytes: QUOTA });
    // The refused one was stopped before anything existed; the stored one is the only record.
    expect(
      await a.connection.collection('media_uploads').countDocuments({ userId: new Types.ObjectId(owner.id) }),
    ).toBe(1);
    // Both reservations were released: the user's reservation hash is gone from Redis.
    const probe = new Redis(redis.url);
    await waitFor(async () => (await probe.exists(`media-upload:quota:{${owner.id}}`)) === 0);
    await probe.quit();
  });

  it('single-request upload: an X-Upload-Id in flight on A is refused on B with 409 UPLOAD_ID_TAKEN, one file stored', async () => {
    const owner = await registerUser(a.url, 'same-id');
    const clip = await largeMp4Like(work, 2 * 1024 * 1024);
    const send = (app: TestApp) =>
      startUpload(app.url, {
        parts: videoParts(clip),
        headers: { ...owner.auth, 'X-Upload-Id': 'cluster-same-id' },
        chunkSize: 64 * 1024,
        delayMs: 5,
      });
    const first = send(a);
    await waitFor(
      async () =>
        (await a.connection.collection('media_uploads').countDocuments({ uploadId: 'cluster-same-id' })) ===
        1,
    );
    const second = await send(b).result;
    expect(second.status).toBe(409);
    expect(second.body).toMatchObject({ error: 'UPLOAD_ID_TAKEN' });
    expect((await first.result).status).toBe(201);
    expect(await storedNames(a, `media/${owner.id}`)).toEqual(['cluster-same-id.mp4']);
    expect(await storedNames(a, 'tmp')).toEqual([]);
  });
});

describe('A chunk session whose lock is held by a killed instance (kill -9)', () => {
  let redis: RunningRedis;
  let b: TestApp;
  let child: ChildApp;
  let user: TestUser;
  let webm: Buffer;

  beforeAll(async () => {
    redis = await startEmbeddedRedis();
    b = await createTestApp({ env: { REDIS_URL: redis.url, ...UNTHROTTLED } });
    child = await ChildApp.create('cluster-a', {
      REDIS_URL: redis.url,
      MONGODB_DB: b.dbName,
      UPLOAD_DIR: b.uploadDir,
      ...UNTHROTTLED,
    });
    await child.start();
    user = await registerUser(b.url, 'killed');
    webm = await readFile((await mediaFixtures()).webm);
  }, 120_000);
  afterAll(async () => {
    await child?.dispose();
    await b?.close();
    await redis?.stop();
  });

  it('the lock frees itself after its lease and the session finishes on the other instance, SHA-256 intact', async () => {
    const fileId = newFileId('killed');
    const body = Buffer.concat([webm, randomBytes(3 * 1024 * 1024)]);
    const pieces = split(body, 3);
    const first = await postChunk(
      b.url,
      user.token,
      { fileId, chunkIndex: 0, status: 'uploading', totalChunks: 3 },
      pieces[0],
    );
    expect(first.status).toBe(200);
    const { uploadId } = first.body.data as { uploadId: string };
    const lockKey = `media-upload:lock:${user.id}:${uploadId}`;

    // Freeze the child the moment it takes the session's lock (keyspace event), then kill -9 it: it dies holding it.
    const admin = new Redis(redis.url);
    const events = new Redis(redis.url);
    await admin.config('SET', 'notify-keyspace-events', 'K$');
    let frozen = false;
    events.on('message', () => {
      if (frozen || !child.pid) return;
      frozen = true;
      process.kill(child.pid, 'SIGSTOP');
    });
    await events.subscribe(`__keyspace@0__:${lockKey}`);
    const onA = postChunk(
      child.url,
      user.token,
      { fileId, chunkIndex: 1, status: 'uploading' },
      pieces[1],
    ).then(
      () => 'answered',
      () => 'connection lost',
    );
    await waitFor(() => frozen, 30_000);
    await child.crash();
    expect(await onA).toBe('connection lost'); // the instance died mid-commit
    expect(await admin.pttl(lockKey)).toBeGreaterThan(0); // still held by the dead instance
    await events.quit();

    // B waits for the dead instance's lease to run out (≤ 15 s), then takes over the session.
    const startedAt = Date.now();
    const resent = await postChunk(
      b.url,
      user.token,
      { fileId, chunkIndex: 1, status: 'uploading' },
      pieces[1],
    );
    expect(resent.status).toBe(200);
    expect(Date.now() - startedAt).toBeLessThan(20_000);
    expect(await admin.exists(lockKey)).toBe(0);
    await admin.quit();

    const last = await postChunk(
      b.url,
      user.token,
      { fileId, chunkIndex: 2, status: 'completed' },
      pieces[2],
    );
    expect(last.status).toBe(200);
    expect(last.body.data).toMatchObject({
      receivedCount: 3,
      fileSize: body.length,
      checksumSha256: sha256(body),
    });
    expect(sha256(await readStored(b, `media/${user.id}/${uploadId}.webm`))).toBe(sha256(body));
  }, 90_000);
});
