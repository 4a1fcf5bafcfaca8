import { readFile } from 'node:fs/promises';
import { Types } from 'mongoose';
import request from 'supertest';
import { mediaFixtures } from '../support/fixtures';
import { assemblyOf, readStored, storedAny } from '../support/stored-objects';
import { createTestApp, TestApp } from '../support/test-app';
import { registerUser } from '../support/users';
import { newFileId, postChunk, sha256, split } from './seed-support';

describe('Seed chunk API: restart tolerance', () => {
  let webm: Buffer;
  /** Apps still running; each restarted app shares (and on close removes) the database and folder of its first. */
  const running = new Set<TestApp>();
  const start = async (options?: Parameters<typeof createTestApp>[0]) => {
    const app = await createTestApp(options);
    running.add(app);
    return app;
  };
  const stop = async (app: TestApp) => {
    running.delete(app);
    await app.stop();
  };

  beforeAll(async () => {
    webm = await readFile((await mediaFixtures()).webm);
  });
  afterAll(async () => {
    for (const app of running) await app.close();
  });

  it('continues a session on a restarted app (same database and upload folder) and finishes byte-identically', async () => {
    const first = await start();
    const user = await registerUser(first.url);
    const fileId = newFileId();
    const pieces = split(webm, 5);
    const r0 = await postChunk(
      first.url,
      user.token,
      { fileId, chunkIndex: 0, status: 'uploading', totalChunks: 5 },
      pieces[0],
    );
    await postChunk(first.url, user.token, { fileId, chunkIndex: 1, status: 'uploading' }, pieces[1]);
    await postChunk(first.url, user.token, { fileId, chunkIndex: 3, status: 'uploading' }, pieces[3]);
    const { uploadId } = r0.body.data as { uploadId: string };
    // A crash in the middle of an append leaves bytes (and a manifest line) the session never committed.
    const dir = `chunks/${user.id}/${uploadId}`;
    await assemblyOf(first, `${dir}/data`).append(Buffer.from('torn append'));
    await assemblyOf(first, `${dir}/manifest`).append(Buffer.from('2 9 0123'));
    await stop(first);

    const second = await start({ dbName: first.dbName, uploadDir: first.uploadDir });
    const status = await request(second.url).get(`/api/video/status/${fileId}`).set(user.auth).expect(200);
    expect(status.body.data).toMatchObject({
      exists: true,
      status: 'uploading',
      uploadId,
      receivedChunks: [0, 1, 3],
      nextChunkIndex: 2,
      missingChunks: [2, 4],
      totalChunks: 5,
      fileSize: pieces[0].length + pieces[1].length + pieces[3].length,
    });
    const before = await request(second.url)
      .get(`/api/upload/progress/${uploadId}`)
      .set(user.auth)
      .expect(200);
    expect(before.body.status).toBe('uploading');

    const r2 = await postChunk(
      second.url,
      user.token,
      { fileId, chunkIndex: 2, status: 'uploading' },
      pieces[2],
    );
    expect(r2.status).toBe(200);
    expect(r2.body.data).toMatchObject({ uploadId, nextChunkIndex: 4, receivedCount: 4 });
    const progress = await request(second.url)
      .get(`/api/upload/progress/${uploadId}`)
      .set(user.auth)
      .expect(200);
    expect(progress.body).toMatchObject({
      bytesUploaded: webm.length - pieces[4].length,
      percentComplete: 80,
    });

    const done = await postChunk(
      second.url,
      user.token,
      { fileId, chunkIndex: 4, status: 'completed' },
      pieces[4],
    );
    expect(done.status).toBe(200);
    expect(done.body.data).toMatchObject({ uploadId, fileSize: webm.length, checksumSha256: sha256(webm) });
    expect(sha256(await readStored(second, `media/${user.id}/${uploadId}.webm`))).toBe(sha256(webm));
    expect(await storedAny(second, `chunks/${user.id}/${uploadId}`)).toBe(false);
  });

  it('cancels a session that no running app holds (idle since a restart) through the chunked discarder', async () => {
    const first = await start();
    const user = await registerUser(first.url);
    const fileId = newFileId();
    const reply = await postChunk(
      first.url,
      user.token,
      { fileId, chunkIndex: 1, status: 'uploading' },
      webm,
    );
    const { uploadId } = reply.body.data as { uploadId: string };
    await stop(first);

    const second = await start({ dbName: first.dbName, uploadDir: first.uploadDir });
    const cancel = await request(second.url)
      .post(`/api/upload/cancel/${uploadId}`)
      .set(user.auth)
      .expect(200);
    expect(cancel.body.status).toBe('cancelled');
    expect(await storedAny(second, `chunks/${user.id}/${uploadId}`)).toBe(false);
    const owner = { userId: new Types.ObjectId(user.id) };
    expect(await second.connection.collection('media_uploads').findOne({ ...owner, uploadId })).toMatchObject(
      { status: 'cancelled' },
    );
    expect(await second.connection.collection('chunk_sessions').findOne({ ...owner, fileId })).toMatchObject({
      status: 'cancelled',
    });
    const later = await postChunk(
      second.url,
      user.token,
      { fileId, chunkIndex: 0, status: 'uploading' },
      webm,
    );
    expect(later.status).toBe(409);
  });
});
