import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { Types } from 'mongoose';
import request from 'supertest';
import { mediaFixtures } from '../support/fixtures';
import { storedNames } from '../support/stored-objects';
import { createTestApp, TestApp } from '../support/test-app';
import { registerUser, TestUser } from '../support/users';
import { newFileId, postChunk, sha256, split } from './seed-support';

const MAX_CHUNK = 4096;
const MAX_TOTAL = 12_000;

describe('Seed chunk API: size limits and checksums', () => {
  let t: TestApp;
  let user: TestUser;
  let webm: Buffer;

  beforeAll(async () => {
    t = await createTestApp({
      env: { MAX_CHUNK_BYTES: String(MAX_CHUNK), MAX_RESUMABLE_BYTES: String(MAX_TOTAL) },
    });
    user = await registerUser(t.url);
    webm = await readFile((await mediaFixtures()).webm);
  });
  afterAll(() => t.close());

  const send = (fields: Record<string, string | number | undefined>, file?: Buffer, order?: 'file-first') =>
    postChunk(t.url, user.token, fields, file, { order });
  const session = (fileId: string) =>
    t.connection.collection('chunk_sessions').findOne({ fileId, userId: new Types.ObjectId(user.id) });
  const progressBytes = async (uploadId: string) =>
    (await request(t.url).get(`/api/upload/progress/${uploadId}`).set(user.auth).expect(200)).body
      .bytesUploaded as number;

  it.each([undefined, 'file-first'] as const)(
    'refuses a first chunk over MAX_CHUNK_BYTES with 413 and keeps nothing (%s)',
    async (order) => {
      const fileId = newFileId();
      for (const size of [MAX_CHUNK + 1, 1024 * 1024]) {
        const reply = await send({ fileId, chunkIndex: 0, status: 'uploading' }, randomBytes(size), order);
        expect(reply.status).toBe(413);
        expect(reply.body).toMatchObject({ success: false, error: 'PAYLOAD_TOO_LARGE', limit: MAX_CHUNK });
      }
      expect(await session(fileId)).toBeNull();
      expect(await storedNames(t, 'tmp')).toEqual([]);
    },
  );

  it('refuses an oversized later chunk with 413, leaving the session and its progress as they were', async () => {
    const fileId = newFileId();
    const first = await send({ fileId, chunkIndex: 0, status: 'uploading' }, webm.subarray(0, MAX_CHUNK));
    expect(first.status).toBe(200);
    const { uploadId } = first.body.data as { uploadId: string };
    const before = await session(fileId);
    for (const order of [undefined, 'file-first'] as const) {
      const reply = await send(
        { fileId, chunkIndex: 1, status: 'uploading' },
        randomBytes(MAX_CHUNK + 1),
        order,
      );
      expect(reply.status).toBe(413);
    }
    const after = await session(fileId);
    expect(after?.receivedCount).toBe(before?.receivedCount);
    expect(after?.manifestBytes).toBe(before?.manifestBytes);
    expect(after?.bytesReceived).toBe(MAX_CHUNK);
    expect(await storedNames(t, `chunks/${user.id}/${uploadId}`)).toEqual(['data', 'manifest']);
    expect(await progressBytes(uploadId)).toBe(MAX_CHUNK);
  });

  it('accepts chunks up to MAX_RESUMABLE_BYTES in total and refuses the byte beyond with 413', async () => {
    const fileId = newFileId();
    const body = Buffer.concat([webm, randomBytes(MAX_TOTAL - webm.length)]);
    const pieces = split(body, 3); // 4000 bytes each, exactly MAX_TOTAL together
    for (const [index, piece] of pieces.entries()) {
      expect((await send({ fileId, chunkIndex: index, status: 'uploading' }, piece)).status).toBe(200);
    }
    for (const order of [undefined, 'file-first'] as const) {
      const over = await send({ fileId, chunkIndex: 3, status: 'uploading' }, Buffer.from('x'), order);
      expect(over.status).toBe(413);
      expect(over.body).toMatchObject({ error: 'PAYLOAD_TOO_LARGE', limit: MAX_TOTAL });
    }
    // A resent chunk is not new bytes: it is still answered as a duplicate at the limit.
    expect((await send({ fileId, chunkIndex: 2, status: 'uploading' }, pieces[2])).body.data.duplicate).toBe(
      true,
    );
    const done = await send({ fileId, chunkIndex: 2, status: 'completed' });
    expect(done.status).toBe(200);
    expect(done.body.data).toMatchObject({ fileSize: MAX_TOTAL, checksumSha256: sha256(body) });
  });

  it('discards a chunk whose chunkSha256 does not match with 422, and accepts the right one (any hex case)', async () => {
    const fileId = newFileId();
    const pieces = split(webm, 3);
    const wrong = sha256(Buffer.from('something else'));
    const first = await send({ fileId, chunkIndex: 0, status: 'uploading', chunkSha256: wrong }, pieces[0]);
    expect(first.status).toBe(422);
    expect(first.body).toMatchObject({
      error: 'CHECKSUM_MISMATCH',
      expected: wrong,
      actual: sha256(pieces[0]),
    });
    expect(await session(fileId)).toBeNull();

    const ok = await send(
      { fileId, chunkIndex: 0, status: 'uploading', chunkSha256: sha256(pieces[0]).toUpperCase() },
      pieces[0],
    );
    expect(ok.status).toBe(200);
    const { uploadId } = ok.body.data as { uploadId: string };
    for (const order of [undefined, 'file-first'] as const) {
      const bad = await send(
        { fileId, chunkIndex: 1, status: 'completed', chunkSha256: wrong },
        pieces[1],
        order,
      );
      expect(bad.status).toBe(422);
    }
    expect((await send({ fileId, chunkIndex: 2, status: 'uploading' }, pieces[2])).status).toBe(200);
    expect((await session(fileId))?.receivedCount).toBe(2);
    expect(await storedNames(t, `chunks/${user.id}/${uploadId}`)).toEqual(['data', 'manifest', 'part-2']);
    expect(await progressBytes(uploadId)).toBe(pieces[0].length + pieces[2].length);
    expect(await storedNames(t, 'tmp')).toEqual([]);

    const done = await send(
      { fileId, chunkIndex: 1, status: 'completed', chunkSha256: sha256(pieces[1]) },
      pieces[1],
    );
    expect(done.status).toBe(200);
    expect(done.body.data.checksumSha256).toBe(sha256(webm));
  });

  it('refuses a malformed chunkSha256 with 400', async () => {
    const reply = await send(
      { fileId: newFileId(), chunkIndex: 0, status: 'uploading', chunkSha256: 'abc' },
      webm.subarray(0, 10),
    );
    expect(reply.status).toBe(400);
    expect(reply.body.error).toBe('VALIDATION_FAILED');
  });
});
