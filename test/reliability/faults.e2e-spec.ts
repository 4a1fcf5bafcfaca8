import { createHash, randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import request from 'supertest';
import { postChunk, split } from '../chunk/seed-support';
import { createTusUpload, OCTETS, TUS } from '../chunk/tus-support';
import { StorageDriver } from '../../src/storage';
import { startUpload, upload, videoParts } from '../media/support/multipart-upload';
import { largeMp4Like, mediaFixtures } from '../support/fixtures';
import { leftovers, readStored } from '../support/stored-objects';
import { createTestApp, TestApp } from '../support/test-app';
import { sharedS3 } from '../support/test-storage';
import { registerUser, TestUser } from '../support/users';
import { expectAlive } from '../security/support/attack-support';
import { rawRequest } from '../security/support/raw-http';
import {
  eventually,
  failDiskAfter,
  fdTargets,
  openFds,
  socketsTo,
  waitForNoStuckRecords,
} from './support/fault-support';

const KiB = 1024;

describe('Faults: lying lengths, aborts, a full disk and racing writers leave nothing behind', () => {
  let t: TestApp;
  let user: TestUser;
  let video: string;
  let webm: Buffer;

  beforeAll(async () => {
    // A short idle timeout, so a client that declares more than it sends is cut off within the test.
    t = await createTestApp({
      // 50 clients of one user abort at once: the per-user cap on concurrent bodies is not what is tested here.
      env: {
        HTTP_IDLE_TIMEOUT_MS: '2000',
        PROGRESS_PERSIST_MS: '100',
        MAX_CONCURRENT_UPLOADS_PER_USER: '100',
      },
    });
    user = await registerUser(t.url, 'faults');
    video = await largeMp4Like(t.uploadDir, 512 * KiB);
    webm = await readFile((await mediaFixtures()).webm);
  });
  afterAll(() => t.close());

  const patchTus = (id: string, offset: number, bytes: Buffer) =>
    request(t.url)
      .patch(`/api/tus/${id}`)
      .set({ ...user.auth, ...TUS, ...OCTETS, 'Upload-Offset': String(offset) })
      .send(bytes);

  /** The upload completed with exactly these bytes: its record's SHA-256 and the stored file. */
  const expectStoredExactly = async (uploadId: string, data: Buffer) => {
    const record = await t.connection.collection('media_uploads').findOne({ uploadId });
    expect(record).toMatchObject({
      status: 'completed',
      checksumSha256: createHash('sha256').update(data).digest('hex'),
    });
    expect((await readStored(t, String(record?.storageKey))).equals(data)).toBe(true);
  };

  const settled = async () => {
    await waitForNoStuckRecords(t);
    await eventually(async () => (await leftovers(t)).length === 0, 'no partial file');
  };

  it('a body longer than its Content-Length: the extra bytes are never part of the upload → 400, nothing kept', async () => {
    const boundary = 'LyingLength';
    const body = Buffer.from(
      `--${boundary}\r\nContent-Disposition: form-data; name="fileType"\r\n\r\nphoto\r\n` +
        `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.jpg"\r\n\r\n${'x'.repeat(4000)}\r\n--${boundary}--\r\n`,
    );
    const res = await rawRequest(t.url, '/api/upload/media', {
      headers: {
        ...user.auth,
        'Content-Type': `multipart/form-data; boundary=${boundary}`,
        'Content-Length': String(body.length - 1000),
      },
      body,
    });
    expect(res.status).toBe(400);
    await settled();
    await expectAlive(t.url);
  });

  it('a Content-Length larger than what is sent: the idle timeout ends it, the partial file is removed', async () => {
    const running = startUpload(t.url, {
      headers: { ...user.auth, 'X-Upload-Id': 'short-body-0001' },
      parts: videoParts(video),
      sendAtMost: 200 * KiB,
    });
    const result = await running.result;
    expect(result.status ?? 0).not.toBe(201);
    await settled();
    const record = await t.connection.collection('media_uploads').findOne({ uploadId: 'short-body-0001' });
    expect(record?.status).toBe('failed');
    await expectAlive(t.url);
  }, 30_000);

  it('50 clients aborting at 50 %: no orphaned file, no stuck record, a stable number of open descriptors', async () => {
    const abortOne = async () => {
      const running = startUpload(t.url, {
        headers: user.auth,
        parts: videoParts(video),
        pauseAt: 256 * KiB,
      });
      await running.paused;
      running.abort();
      await running.result;
    };
    const round = () => Promise.all(Array.from({ length: 5 }, abortOne));
    const files = () =>
      fdTargets()
        .filter((target) => target.startsWith('/'))
        .sort();
    const serverConnections = () =>
      new Promise<number>((done) => t.app.getHttpServer().getConnections((_error, count) => done(count)));
    // The database driver's pool grows with the concurrency it sees (bounded by its maxPoolSize): its sockets are
    // counted apart, so what must stay flat is everything else this process holds open.
    const poolSockets = () => {
      // The driver's pool stats are not in its types.
      type Pools = {
        topology?: { s?: { servers?: Map<string, { pool?: { totalConnectionCount?: number } }> } };
      };
      const servers = (t.connection.getClient() as unknown as Pools).topology?.s?.servers;
      return [...(servers?.values() ?? [])].reduce(
        (sum, server) => sum + (server.pool?.totalConnectionCount ?? 0),
        0,
      );
    };
    const s3Port = t.bucket ? Number(new URL(sharedS3().endpoint).port) : undefined;
    const ownFds = () => openFds() - poolSockets() - (s3Port ? socketsTo(s3Port) : 0);
    await round();
    await settled();
    const filesBefore = files();
    const before = ownFds();
    for (let i = 0; i < 9; i++) await round();
    await settled();
    await eventually(async () => (await serverConnections()) === 0, 'every server-side socket closed');
    await eventually(
      () => JSON.stringify(files()) === JSON.stringify(filesBefore),
      'no file handle left open',
    );
    let now = ownFds();
    await eventually(() => (now = ownFds()) <= before + 2, 'a stable count of open descriptors').catch(
      (error: Error) => {
        throw new Error(`${error.message}: ${before} before, ${now} after 45 more aborts`);
      },
    );
    // And it still takes uploads.
    const ok = await upload(t.url, {
      headers: user.auth,
      parts: videoParts(video),
    });
    expect(ok.status).toBe(201);
  }, 60_000);

  it('ENOSPC mid-write of a multipart upload → 507, the partial file removed, the service keeps serving', async () => {
    const disk = failDiskAfter(t, 128 * KiB);
    const res = await upload(t.url, {
      headers: { ...user.auth, 'X-Upload-Id': 'disk-full-0002' },
      parts: videoParts(video),
    });
    expect(res.status).toBe(507);
    expect(res.body.error).toBe('INSUFFICIENT_STORAGE');
    await settled();
    expect(await t.app.get(StorageDriver).stat(disk.key())).toBeUndefined();
    const again = await upload(t.url, {
      headers: user.auth,
      parts: videoParts(video),
    });
    expect(again.status).toBe(201);
  });

  it('ENOSPC mid-write of a seed chunk → 507, the chunk file removed, the session resumes with the same chunk', async () => {
    const pieces = split(webm, 2);
    const first = await postChunk(
      t.url,
      user.token,
      { fileId: 'enospc-rec', chunkIndex: 0, status: 'uploading' },
      pieces[0],
    );
    expect(first.status).toBe(200);
    const disk = failDiskAfter(t, 64);
    const failed = await postChunk(
      t.url,
      user.token,
      { fileId: 'enospc-rec', chunkIndex: 1, status: 'completed' },
      pieces[1],
    );
    expect(failed.status).toBe(507);
    expect(await t.app.get(StorageDriver).stat(disk.key())).toBeUndefined();
    const retried = await postChunk(
      t.url,
      user.token,
      { fileId: 'enospc-rec', chunkIndex: 1, status: 'completed' },
      pieces[1],
    );
    expect(retried.status).toBe(200);
    await expectStoredExactly(retried.body.data.uploadId, webm);
  });

  it('ENOSPC mid-write of a tus PATCH → 507, the offset is what reached the disk, and the upload resumes from it', async () => {
    const data = await readFile(video);
    const id = await createTusUpload(t.url, user.auth, data.length);
    const okBytes = 64 * KiB;
    failDiskAfter(t, okBytes);
    const failed = await patchTus(id, 0, data.subarray(0, 256 * KiB));
    expect(failed.status).toBe(507);
    expect(failed.body.error).toBe('INSUFFICIENT_STORAGE');
    const head = await request(t.url)
      .head(`/api/tus/${id}`)
      .set({ ...user.auth, ...TUS })
      .expect(200);
    const offset = Number(head.headers['upload-offset']);
    expect(offset).toBeLessThanOrEqual(okBytes);
    expect((await patchTus(id, offset, data.subarray(offset))).status).toBe(204);
    await expectStoredExactly(id, data);
  });

  it('two tus PATCHes at the same offset: one wins, the other gets 409, and the file is byte-identical', async () => {
    const data = await readFile(video);
    const id = await createTusUpload(t.url, user.auth, data.length);
    const half = 256 * KiB;
    const [a, b] = await Promise.all([
      patchTus(id, 0, data.subarray(0, half)),
      patchTus(id, 0, data.subarray(0, half)),
    ]);
    expect([a.status, b.status].sort()).toEqual([204, 409]);
    expect((await patchTus(id, half, data.subarray(half))).status).toBe(204);
    await expectStoredExactly(id, data);
  });

  it('two different chunks with the same index at once: one is kept, the other gets 409 CHUNK_CONFLICT', async () => {
    const pieces = split(webm, 2);
    await postChunk(t.url, user.token, { fileId: 'race-rec', chunkIndex: 0, status: 'uploading' }, pieces[0]);
    const impostor = randomBytes(pieces[1].length);
    const [a, b] = await Promise.all([
      postChunk(t.url, user.token, { fileId: 'race-rec', chunkIndex: 1, status: 'uploading' }, pieces[1]),
      postChunk(t.url, user.token, { fileId: 'race-rec', chunkIndex: 1, status: 'uploading' }, impostor),
    ]);
    expect([a.status, b.status].sort()).toEqual([200, 409]);
    const winner = a.status === 200 ? pieces[1] : impostor;
    // Completing with the winner's bytes again is an idempotent repeat; a loser's bytes would be 409.
    const done = await postChunk(
      t.url,
      user.token,
      { fileId: 'race-rec', chunkIndex: 1, status: 'completed' },
      winner,
    );
    expect(done.status).toBe(200);
    const expected = createHash('sha256')
      .update(Buffer.concat([pieces[0], winner]))
      .digest('hex');
    const record = await t.connection
      .collection('media_uploads')
      .findOne({ uploadId: done.body.data.uploadId });
    expect(record?.checksumSha256).toBe(expected);
  });
});
