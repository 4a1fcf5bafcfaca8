import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { Types } from 'mongoose';
import { ChunkSessionsService } from '../../src/chunk/seed/chunk-sessions.service';
import { StorageDriver } from '../../src/storage';
import { mediaFixtures } from '../support/fixtures';
import { readStored, storedNames } from '../support/stored-objects';
import { createTestApp, TestApp } from '../support/test-app';
import { registerUser, TestUser } from '../support/users';
import { newFileId, postChunk, sha256, split } from './seed-support';

describe('Seed chunk API: one writer per session', () => {
  let t: TestApp;
  let user: TestUser;
  let webm: Buffer;

  beforeAll(async () => {
    t = await createTestApp();
    user = await registerUser(t.url);
    webm = await readFile((await mediaFixtures()).webm);
  });
  afterAll(() => t.close());
  afterEach(() => jest.restoreAllMocks());

  const send = (
    fields: Record<string, string | number | undefined>,
    file?: Buffer,
    slow = false,
    order?: 'file-first',
  ) =>
    postChunk(
      t.url,
      user.token,
      fields,
      file,
      slow ? { pieceBytes: 16 * 1024, delayMs: 5, order } : { order },
    );
  const session = (fileId: string) =>
    t.connection.collection('chunk_sessions').findOne({ fileId, userId: new Types.ObjectId(user.id) });

  it('assembles chunks sent all at once (each twice, some file-first) byte-identically, in one session', async () => {
    const fileId = newFileId();
    const body = Buffer.concat([webm, randomBytes(400 * 1024)]);
    const pieces = split(body, 8);
    const replies = await Promise.all(
      [...pieces, ...pieces].map((piece, i) =>
        send(
          { fileId, chunkIndex: i % 8, status: 'uploading', totalChunks: 8 },
          piece,
          true,
          i % 3 === 0 ? 'file-first' : undefined,
        ),
      ),
    );
    expect(replies.map((reply) => reply.status)).toEqual(Array(16).fill(200));
    expect(new Set(replies.map((reply) => reply.body.data.uploadId)).size).toBe(1);
    expect(replies.filter((reply) => reply.body.data.duplicate)).toHaveLength(8);
    expect(await t.connection.collection('chunk_sessions').countDocuments({ fileId })).toBe(1);
    expect(
      await t.connection
        .collection('media_uploads')
        .countDocuments({ uploadId: replies[0].body.data.uploadId }),
    ).toBe(1);

    const done = await send({ fileId, chunkIndex: 7, status: 'completed' });
    expect(done.status).toBe(200);
    const { uploadId } = done.body.data as { uploadId: string };
    expect(done.body.data).toMatchObject({ fileSize: body.length, checksumSha256: sha256(body) });
    expect(sha256(await readStored(t, `media/${user.id}/${uploadId}.webm`))).toBe(sha256(body));
    expect(await storedNames(t, 'tmp')).toEqual([]);
  });

  it('keeps the assembly consistent when recording a chunk fails, and the resent chunk then succeeds', async () => {
    const fileId = newFileId();
    const pieces = split(webm, 3);
    await send({ fileId, chunkIndex: 0, status: 'uploading' }, pieces[0]);
    jest
      .spyOn(t.app.get(ChunkSessionsService), 'saveProgress')
      .mockRejectedValueOnce(new Error('database unavailable'));
    const failed = await send({ fileId, chunkIndex: 1, status: 'uploading' }, pieces[1]);
    expect(failed.status).toBe(500);
    expect((await session(fileId))?.receivedCount).toBe(1);

    // The bytes appended before the failure are cut off again by the next append.
    for (const index of [1, 2]) {
      const reply = await send(
        { fileId, chunkIndex: index, status: index === 2 ? 'completed' : 'uploading' },
        pieces[index],
      );
      expect(reply.status).toBe(200);
    }
    const uploadId = (await session(fileId))?.uploadId as string;
    expect(sha256(await readStored(t, `media/${user.id}/${uploadId}.webm`))).toBe(sha256(webm));
  });

  it('answers a full disk with 507 and leaves no session behind a failed first chunk', async () => {
    const fileId = newFileId();
    const diskFull = Object.assign(new Error('no space left on device'), { code: 'ENOSPC' });
    const storage = t.app.get(StorageDriver);
    const assembly = storage.assembly.bind(storage);
    jest.spyOn(storage, 'assembly').mockImplementationOnce((key) => {
      const data = assembly(key);
      jest.spyOn(data, 'appendObject').mockRejectedValueOnce(diskFull);
      return data;
    });
    const reply = await send({ fileId, chunkIndex: 0, status: 'uploading' }, webm);
    expect(reply.status).toBe(507);
    expect(reply.body.error).toBe('INSUFFICIENT_STORAGE');
    expect(await session(fileId)).toBeNull();
    expect(
      await t.connection
        .collection('media_uploads')
        .countDocuments({ userId: new Types.ObjectId(user.id), status: 'uploading' }),
    ).toBe(0);
    expect(await storedNames(t, 'tmp')).toEqual([]);
    const chunksOfUser = await storedNames(t, 'chunks').then((files) =>
      files.filter((f) => f.includes(fileId)),
    );
    expect(chunksOfUser).toEqual([]);

    const retry = await send({ fileId, chunkIndex: 0, status: 'completed' }, webm);
    expect(retry.status).toBe(200);
  });
});
