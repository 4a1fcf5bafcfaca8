import { readFile } from 'node:fs/promises';
import { Types } from 'mongoose';
import request from 'supertest';
import { mediaFixtures } from '../support/fixtures';
import { assemblyOf, readStored, storedAny, storedKeys, storedNames } from '../support/stored-objects';
import { createTestApp, TestApp } from '../support/test-app';
import { registerUser, TestUser } from '../support/users';
import { ChunkReply, newFileId, postChunk, sha256, split } from './seed-support';
import { withoutDerived } from '../support/processing';

describe('Seed chunk API: assembly', () => {
  let t: TestApp;
  let user: TestUser;
  let webm: Buffer;
  let mp4: Buffer;

  beforeAll(async () => {
    t = await createTestApp();
    user = await registerUser(t.url);
    const fixtures = await mediaFixtures();
    [webm, mp4] = await Promise.all([readFile(fixtures.webm), readFile(fixtures.mp4)]);
  });
  afterAll(() => t.close());

  const send = (fields: Record<string, string | number | undefined>, file?: Buffer, order?: 'file-first') =>
    postChunk(t.url, user.token, fields, file, { order });
  const mediaRecord = (uploadId: string) =>
    t.connection.collection('media_uploads').findOne({ uploadId, userId: new Types.ObjectId(user.id) });
  const session = (fileId: string) =>
    t.connection.collection('chunk_sessions').findOne({ fileId, userId: new Types.ObjectId(user.id) });

  /** Sends every piece in order, the last one with status=completed. */
  async function sendAll(fileId: string, pieces: Buffer[]) {
    let last: ChunkReply | undefined;
    for (const [index, piece] of pieces.entries()) {
      last = await send(
        { fileId, chunkIndex: index, status: index === pieces.length - 1 ? 'completed' : 'uploading' },
        piece,
      );
      expect(last.status).toBe(200);
    }
    return last as ChunkReply;
  }

  it('assembles in-order chunks of a real webm byte-identically, answering in the seed shape', async () => {
    const fileId = newFileId();
    const pieces = split(webm, 4);
    const first = await send({ fileId, chunkIndex: 0, status: 'uploading' }, pieces[0]);
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({
      success: true,
      data: { message: 'Video chunk uploaded successfully', fileId, chunkIndex: 0, status: 'uploading' },
    });
    expect(first.body.data).toMatchObject({ duplicate: false, receivedCount: 1, nextChunkIndex: 1 });
    const uploadId = first.body.data.uploadId as string;
    expect(uploadId).toMatch(/^[A-Za-z0-9_-]{22}$/);

    for (const index of [1, 2]) {
      await send({ fileId, chunkIndex: index, status: 'uploading' }, pieces[index]);
    }
    const done = await send({ fileId, chunkIndex: 3, status: 'completed' }, pieces[3]);
    expect(done.status).toBe(200);
    expect(done.body.data).toMatchObject({
      message: 'Video chunk uploaded successfully',
      fileId,
      chunkIndex: 3,
      status: 'completed',
      uploadId,
      fileSize: webm.length,
      mimeType: 'video/webm',
      fileName: `${uploadId}.webm`,
      checksumSha256: sha256(webm),
      fileUrl: `/api/media/${uploadId}/content`,
    });

    const stored = await readStored(t, `media/${user.id}/${uploadId}.webm`);
    expect(sha256(stored)).toBe(sha256(webm));
    const record = await mediaRecord(uploadId);
    expect(record).toMatchObject({
      source: 'chunked',
      status: 'completed',
      fileType: 'video',
      mimeType: 'video/webm',
      fileSize: webm.length,
      checksumSha256: sha256(webm),
      storageKey: `media/${user.id}/${uploadId}.webm`,
    });
    expect(record?.expiresAt).toBeUndefined();
    expect(await session(fileId)).toMatchObject({ status: 'completed', fileSize: webm.length });
    // The session folder and its parts are gone; only the media file remains (and what processing makes of it).
    expect(withoutDerived(await storedKeys(t))).toEqual([`media/${user.id}/${uploadId}.webm`]);

    const progress = await request(t.url).get(`/api/upload/progress/${uploadId}`).set(user.auth).expect(200);
    expect(progress.body).toMatchObject({
      status: 'completed',
      percentComplete: 100,
      bytesUploaded: webm.length,
      source: 'chunked',
    });
  });

  it('takes the extension from the content: an mp4 (Safari MediaRecorder) is stored as .mp4', async () => {
    const fileId = newFileId();
    const done = await sendAll(fileId, split(mp4, 3));
    const { uploadId } = done.body.data as { uploadId: string };
    expect(done.body.data).toMatchObject({ mimeType: 'video/mp4', fileName: `${uploadId}.mp4` });
    const stored = await readStored(t, `media/${user.id}/${uploadId}.mp4`);
    expect(sha256(stored)).toBe(sha256(mp4));
  });

  it('parks out-of-order chunks and appends them once the gap fills', async () => {
    const fileId = newFileId();
    const pieces = split(webm, 5);
    const order = [2, 4, 0, 3, 1];
    const replies = [];
    for (const index of order) {
      replies.push(
        await send({ fileId, chunkIndex: index, status: 'uploading', totalChunks: 5 }, pieces[index]),
      );
    }
    expect(replies.map((reply) => reply.status)).toEqual([200, 200, 200, 200, 200]);
    expect(replies.map((reply) => reply.body.data.nextChunkIndex)).toEqual([0, 0, 1, 1, 5]);
    const { uploadId } = replies[0].body.data as { uploadId: string };

    const status = await request(t.url).get(`/api/video/status/${fileId}`).set(user.auth).expect(200);
    expect(status.body.data).toMatchObject({
      receivedChunks: [0, 1, 2, 3, 4],
      nextChunkIndex: 5,
      missingChunks: [],
    });
    // Everything is in the assembly file now; no part waits.
    expect(await storedNames(t, `chunks/${user.id}/${uploadId}`)).toEqual(['data', 'manifest']);

    const done = await send({ fileId, chunkIndex: 4, status: 'completed' }, pieces[4]);
    expect(done.status).toBe(200);
    expect(done.body.data).toMatchObject({ duplicate: true, fileSize: webm.length });
    const stored = await readStored(t, `media/${user.id}/${uploadId}.webm`);
    expect(sha256(stored)).toBe(sha256(webm));
  });

  it('answers a repeated chunk with the same bytes with an idempotent 200, and different bytes with 409', async () => {
    const fileId = newFileId();
    const pieces = split(webm, 3);
    const first = await send({ fileId, chunkIndex: 0, status: 'uploading' }, pieces[0]);
    const again = await send({ fileId, chunkIndex: 0, status: 'uploading' }, pieces[0]);
    expect(again.status).toBe(200);
    expect(again.body.data).toMatchObject({
      duplicate: true,
      receivedCount: 1,
      bytesReceived: pieces[0].length,
    });

    const other = Buffer.from(pieces[0]);
    other[other.length - 1] ^= 0xff;
    const conflict = await send({ fileId, chunkIndex: 0, status: 'uploading' }, other);
    expect(conflict.status).toBe(409);
    expect(conflict.body).toMatchObject({ success: false, error: 'CHUNK_CONFLICT', chunkIndex: 0 });

    const { uploadId } = first.body.data as { uploadId: string };
    const dir = `chunks/${user.id}/${uploadId}`;
    expect(await storedNames(t, dir)).toEqual(['data', 'manifest']);
    expect(await assemblyOf(t, `${dir}/data`).length()).toBe(pieces[0].length);
    expect(await session(fileId)).toMatchObject({ bytesReceived: pieces[0].length, receivedCount: 1 });
    const manifest = (await assemblyOf(t, `${dir}/manifest`).readHead(64 * 1024)).toString('latin1');
    expect(manifest).toBe(`0 ${pieces[0].length} ${sha256(pieces[0])}\n`);
    expect(await storedNames(t, 'tmp')).toEqual([]);

    const done = await sendAll(fileId, pieces);
    expect(sha256(await readStored(t, `media/${user.id}/${uploadId}.webm`))).toBe(sha256(webm));
    expect(done.body.data.receivedCount).toBe(3);
  });

  it('refuses to complete with a chunk missing (409 listing it), then completes once it arrives', async () => {
    const fileId = newFileId();
    const pieces = split(webm, 5);
    for (const index of [0, 2, 3])
      await send({ fileId, chunkIndex: index, status: 'uploading' }, pieces[index]);
    const early = await send({ fileId, chunkIndex: 4, status: 'completed' }, pieces[4]);
    expect(early.status).toBe(409);
    expect(early.body).toMatchObject({
      error: 'CHUNKS_MISSING',
      missing: [1],
      missingCount: 1,
      nextChunkIndex: 1,
    });
    const uploadId = early.body.uploadId as string;
    expect((await mediaRecord(uploadId))?.status).toBe('uploading');

    const status = await request(t.url).get(`/api/video/status/${fileId}`).set(user.auth).expect(200);
    expect(status.body.data).toMatchObject({
      exists: true,
      status: 'uploading',
      uploadId,
      receivedChunks: [0, 2, 3, 4],
      nextChunkIndex: 1,
      missingChunks: [1],
      totalChunks: null,
      fileSize: webm.length - pieces[1].length,
    });

    await send({ fileId, chunkIndex: 1, status: 'uploading' }, pieces[1]);
    // A bare completion request (no file) finalises once nothing is missing.
    const done = await send({ fileId, chunkIndex: 4, status: 'completed' });
    expect(done.status).toBe(200);
    expect(done.body.data).toMatchObject({ status: 'completed', fileSize: webm.length });
  });

  it('with totalChunks declared, a completion lists every missing index up to totalChunks-1', async () => {
    const fileId = newFileId();
    const pieces = split(webm, 4);
    await send({ fileId, chunkIndex: 0, status: 'uploading', totalChunks: 4 }, pieces[0]);
    const early = await send({ fileId, chunkIndex: 1, status: 'completed' }, pieces[1]);
    expect(early.status).toBe(409);
    expect(early.body).toMatchObject({ error: 'CHUNKS_MISSING', missing: [2, 3] });

    const beyond = await send({ fileId, chunkIndex: 4, status: 'uploading' }, pieces[3]);
    expect(beyond.status).toBe(400);
    expect(beyond.body.error).toBe('CHUNK_INDEX_OUT_OF_RANGE');
    const changed = await send({ fileId, chunkIndex: 2, status: 'uploading', totalChunks: 5 }, pieces[2]);
    expect(changed.status).toBe(409);
    expect(changed.body.error).toBe('TOTAL_CHUNKS_CONFLICT');
    expect((await session(fileId))?.receivedCount).toBe(2);
  });

  it('accepts the file part before the text fields (the order a FormData may use)', async () => {
    const fileId = newFileId();
    const pieces = split(webm, 3);
    for (const [index, piece] of pieces.entries()) {
      const reply = await send(
        { fileId, chunkIndex: index, status: index === 2 ? 'completed' : 'uploading' },
        piece,
        'file-first',
      );
      expect(reply.status).toBe(200);
    }
    const { uploadId } = (await session(fileId)) as unknown as { uploadId: string };
    expect(sha256(await readStored(t, `media/${user.id}/${uploadId}.webm`))).toBe(sha256(webm));
    expect(await storedNames(t, 'tmp')).toEqual([]);
  });

  it('answers further chunks of a completed upload with 409, and the status route shows it completed', async () => {
    const fileId = newFileId();
    const done = await sendAll(fileId, split(webm, 2));
    const more = await send({ fileId, chunkIndex: 2, status: 'uploading' }, Buffer.from('more'));
    expect(more.status).toBe(409);
    expect(more.body.error).toBe('UPLOAD_COMPLETED');
    const status = await request(t.url).get(`/api/video/status/${fileId}`).set(user.auth).expect(200);
    expect(status.body).toEqual({
      success: true,
      data: {
        fileId,
        exists: true,
        fileSize: webm.length,
        lastModified: expect.any(String),
        status: 'completed',
        uploadId: done.body.data.uploadId,
        receivedChunks: [0, 1],
        nextChunkIndex: 2,
        totalChunks: null,
        missingChunks: [],
        fileUrl: `/api/media/${done.body.data.uploadId}/content`,
      },
    });
    expect(await storedAny(t, `chunks/${user.id}/${done.body.data.uploadId}`)).toBe(false);
  });

  it('refuses a completed upload that is not an allowed type for its fileType with 415, deleting the bytes', async () => {
    const fileId = newFileId();
    const first = await send(
      { fileId, chunkIndex: 0, status: 'uploading' },
      Buffer.from('%PDF-1.7 not a video at all'),
    );
    const { uploadId } = first.body.data as { uploadId: string };
    const refused = await send({ fileId, chunkIndex: 1, status: 'completed' }, Buffer.alloc(64, 1));
    expect(refused.status).toBe(415);
    expect(refused.body.error).toBe('UNSUPPORTED_MEDIA_TYPE');
    expect(await mediaRecord(uploadId)).toMatchObject({ status: 'failed' });
    expect(await session(fileId)).toMatchObject({ status: 'failed', receivedCount: 0, manifestBytes: 0 });
    expect(await storedAny(t, `chunks/${user.id}/${uploadId}`)).toBe(false);
    expect(await storedNames(t, 'media')).not.toContainEqual(expect.stringContaining(uploadId));

    // A real video declared as a photo is refused too.
    const photoId = newFileId();
    await send({ fileId: photoId, chunkIndex: 0, status: 'uploading', fileType: 'photo' }, webm);
    const asPhoto = await send({ fileId: photoId, chunkIndex: 0, status: 'completed' });
    expect(asPhoto.status).toBe(415);
  });

  it('validates the fields: bad chunkIndex, status, unknown fields and a missing file get 400 and change nothing', async () => {
    const fileId = newFileId();
    const cases = [
      { fileId, chunkIndex: '-1', status: 'uploading' },
      { fileId, chunkIndex: '1.5', status: 'uploading' },
      { fileId, chunkIndex: '', status: 'uploading' },
      { fileId, chunkIndex: 0, status: 'done' },
      { fileId, chunkIndex: 0, status: 'uploading', fileType: 'document' },
      { fileId, chunkIndex: 0, status: 'uploading', surprise: 'x' },
      { fileId, status: 'uploading' },
    ];
    for (const fields of cases) {
      const reply = await send(fields, Buffer.from('abc'));
      expect(reply.status).toBe(400);
      expect(reply.body.error).toBe('VALIDATION_FAILED');
    }
    const noFile = await send({ fileId, chunkIndex: 0, status: 'uploading' });
    expect(noFile.status).toBe(400);
    expect(noFile.body.error).toBe('FILE_REQUIRED');
    expect(await session(fileId)).toBeNull();
    expect(await storedNames(t, 'tmp')).toEqual([]);
  });
});
