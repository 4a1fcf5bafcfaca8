import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { get } from 'node:http';
import { Types } from 'mongoose';
import request from 'supertest';
import { mediaFixtures } from '../support/fixtures';
import { storedAny, storedNames, watchOpenWrites } from '../support/stored-objects';
import { createTestApp, TestApp } from '../support/test-app';
import { registerUser, TestUser } from '../support/users';
import { JsonBody, newFileId, postChunk, split, waitFor } from './seed-support';

describe('Seed chunk API: progress and cancel', () => {
  let t: TestApp;
  let user: TestUser;
  let webm: Buffer;

  beforeAll(async () => {
    t = await createTestApp({ env: { PROGRESS_PERSIST_MS: '100', PROGRESS_EVENT_MS: '50' } });
    user = await registerUser(t.url);
    webm = await readFile((await mediaFixtures()).webm);
  });
  afterAll(() => t.close());
  afterEach(() => jest.restoreAllMocks());

  const send = (fields: Record<string, string | number | undefined>, file?: Buffer) =>
    postChunk(t.url, user.token, fields, file);
  const progress = async (uploadId: string) =>
    (await request(t.url).get(`/api/upload/progress/${uploadId}`).set(user.auth).expect(200))
      .body as JsonBody;
  const owner = { userId: new Types.ObjectId() };

  async function expectCancelled(fileId: string, uploadId: string) {
    owner.userId = new Types.ObjectId(user.id);
    expect(await storedAny(t, `chunks/${user.id}/${uploadId}`)).toBe(false);
    expect(await storedNames(t, 'tmp')).toEqual([]);
    expect(await t.connection.collection('media_uploads').findOne({ ...owner, uploadId })).toMatchObject({
      status: 'cancelled',
      cancelledAt: expect.any(Date),
    });
    expect(await t.connection.collection('chunk_sessions').findOne({ ...owner, fileId })).toMatchObject({
      status: 'cancelled',
      receivedCount: 0,
      manifestBytes: 0,
    });
    const status = await request(t.url).get(`/api/video/status/${fileId}`).set(user.auth).expect(200);
    expect(status.body.data).toMatchObject({
      exists: true,
      status: 'cancelled',
      fileSize: 0,
      receivedChunks: [],
    });
    expect((await progress(uploadId)).status).toBe('cancelled');
    const later = await send({ fileId, chunkIndex: 5, status: 'uploading' }, Buffer.from('late'));
    expect(later.status).toBe(409);
    expect(later.body).toMatchObject({ error: 'UPLOAD_ENDED', uploadStatus: 'cancelled' });
  }

  it('shows bytesUploaded and, with totalChunks, percentComplete on the progress route', async () => {
    const fileId = newFileId();
    const pieces = split(webm, 4);
    const first = await send({ fileId, chunkIndex: 0, status: 'uploading', totalChunks: 4 }, pieces[0]);
    const { uploadId } = first.body.data as { uploadId: string };
    expect(await progress(uploadId)).toMatchObject({
      source: 'chunked',
      status: 'uploading',
      bytesUploaded: pieces[0].length,
      percentComplete: 25,
    });
    await send({ fileId, chunkIndex: 2, status: 'uploading' }, pieces[2]);
    expect(await progress(uploadId)).toMatchObject({
      bytesUploaded: pieces[0].length + pieces[2].length,
      percentComplete: 50,
    });
  });

  it('streams progress events over SSE for a chunk session', async () => {
    const fileId = newFileId();
    const pieces = split(webm, 2);
    const first = await send({ fileId, chunkIndex: 0, status: 'uploading', totalChunks: 2 }, pieces[0]);
    const { uploadId } = first.body.data as { uploadId: string };
    const event = await new Promise<JsonBody>((resolve, reject) => {
      const req = get(`${t.url}/api/upload/progress/${uploadId}/events`, { headers: user.auth }, (res) => {
        let text = '';
        res.on('data', (piece: Buffer) => {
          text += piece.toString();
          const match = /event: progress\n(?:id: .*\n)?data: (.*)\n/.exec(text);
          if (match) {
            req.destroy();
            resolve(JSON.parse(match[1]) as JsonBody);
          }
        });
      });
      req.on('error', reject);
      req.setTimeout(10_000, () => {
        req.destroy();
        reject(new Error('no SSE event'));
      });
    });
    expect(event).toMatchObject({
      uploadId,
      bytesUploaded: pieces[0].length,
      percentComplete: 50,
      status: 'uploading',
    });
  });

  it('cancels an idle session: bytes deleted, every record cancelled, later chunks refused', async () => {
    const fileId = newFileId();
    const pieces = split(webm, 4);
    const first = await send({ fileId, chunkIndex: 0, status: 'uploading' }, pieces[0]);
    await send({ fileId, chunkIndex: 2, status: 'uploading' }, pieces[2]);
    const { uploadId } = first.body.data as { uploadId: string };
    expect(await storedNames(t, `chunks/${user.id}/${uploadId}`)).toEqual(['data', 'manifest', 'part-2']);

    const cancel = await request(t.url).post(`/api/upload/cancel/${uploadId}`).set(user.auth).expect(200);
    expect(cancel.body).toMatchObject({
      status: 'cancelled',
      message: 'Upload cancelled',
      source: 'chunked',
    });
    await expectCancelled(fileId, uploadId);
    // Cancelling twice is harmless.
    await request(t.url).post(`/api/upload/cancel/${uploadId}`).set(user.auth).expect(200);
  });

  it('cancels a session while a chunk is streaming: the chunk stops and nothing is left', async () => {
    const fileId = newFileId();
    const first = await send({ fileId, chunkIndex: 0, status: 'uploading' }, webm);
    const { uploadId } = first.body.data as { uploadId: string };
    const writes = watchOpenWrites(t);

    // 64 KiB every 20 ms: about 2 s for the whole chunk, so the cancel lands mid-stream.
    const slow = postChunk(
      t.url,
      user.token,
      { fileId, chunkIndex: 1, status: 'uploading' },
      randomBytes(6 * 1024 * 1024),
      {
        pieceBytes: 64 * 1024,
        delayMs: 20,
      },
    );
    await waitFor(async () => (await progress(uploadId)).bytesUploaded > webm.length + 128 * 1024);
    const incoming = writes.keys();
    const cancel = await request(t.url).post(`/api/upload/cancel/${uploadId}`).set(user.auth);
    expect(incoming).toEqual([expect.stringMatching(new RegExp(`^chunks/${user.id}/${uploadId}/incoming-`))]);
    expect(cancel.status).toBe(200);
    expect(cancel.body.status).toBe('cancelled');
    const chunkReply = await slow;
    expect(chunkReply.status).toBe(409);
    expect(chunkReply.body.error).toBe('UPLOAD_CANCELLED');
    await expectCancelled(fileId, uploadId);
  });

  it('cleans up after a client that drops its connection mid-chunk, and the session carries on', async () => {
    const fileId = newFileId();
    const pieces = split(webm, 2);
    const first = await send({ fileId, chunkIndex: 0, status: 'uploading' }, pieces[0]);
    const { uploadId } = first.body.data as { uploadId: string };
    const abort = new AbortController();
    const dropped = postChunk(
      t.url,
      user.token,
      { fileId, chunkIndex: 1, status: 'uploading' },
      randomBytes(4 * 1024 * 1024),
      {
        pieceBytes: 64 * 1024,
        delayMs: 20,
        signal: abort.signal,
      },
    );
    await waitFor(async () => (await progress(uploadId)).bytesUploaded > pieces[0].length + 128 * 1024);
    abort.abort();
    await expect(dropped).rejects.toThrow();
    const dir = `chunks/${user.id}/${uploadId}`;
    await waitFor(async () => (await storedNames(t, dir)).length === 2);
    expect(await storedNames(t, dir)).toEqual(['data', 'manifest']);
    expect((await progress(uploadId)).bytesUploaded).toBe(pieces[0].length);
    expect(
      (await t.connection.collection('chunk_sessions').findOne({ fileId, uploadId }))?.receivedCount,
    ).toBe(1);

    const done = await send({ fileId, chunkIndex: 1, status: 'completed' }, pieces[1]);
    expect(done.status).toBe(200);
    expect(done.body.data.fileSize).toBe(webm.length);
  });

  it('refuses to cancel a completed chunk upload with 409', async () => {
    const fileId = newFileId();
    const done = await send({ fileId, chunkIndex: 0, status: 'completed' }, webm);
    await request(t.url).post(`/api/upload/cancel/${done.body.data.uploadId}`).set(user.auth).expect(409);
  });
});
