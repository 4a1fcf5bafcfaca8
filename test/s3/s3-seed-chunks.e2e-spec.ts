import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import type { S3ObjectStore } from '../../src/storage/s3';
import { ExpirySweeper } from '../../src/sweeper/expiry-sweeper.service';
import { ChunkReply, newFileId, postChunk, sha256, split, waitFor } from '../chunk/seed-support';
import { largeMp4Like } from '../support/fixtures';
import { s3AppEnv } from '../support/s3-app';
import { createTestApp, TestApp } from '../support/test-app';
import { registerUser, TestUser } from '../support/users';
import { S3_SETUP_TIMEOUT_MS, TestS3 } from './s3-test-server';

const MiB = 1024 * 1024;
const EXPIRY_S = 3600;

/** The seed chunk API on STORAGE_DRIVER=s3 (real versitygw): chunks become multipart parts through the assembly. */
describe('Seed chunks on STORAGE_DRIVER=s3 (real versitygw)', () => {
  let s3: TestS3;
  let store: S3ObjectStore;
  let t: TestApp;
  let user: TestUser;
  let dir: string;
  let video: Buffer;

  beforeAll(async () => {
    s3 = await TestS3.start();
    store = await s3.store();
    t = await createTestApp({ env: { ...s3AppEnv(s3, store.bucket), UPLOAD_EXPIRY: String(EXPIRY_S) } });
    user = await registerUser(t.url, 'seed-s3');
    dir = await mkdtemp(join(tmpdir(), 's3-seed-'));
    video = await readFile(await largeMp4Like(dir, 20 * MiB + 123));
  }, S3_SETUP_TIMEOUT_MS);
  afterAll(async () => {
    await t?.close();
    await s3?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const send = (fields: Record<string, string | number>, chunk: Buffer) =>
    postChunk(t.url, user.token, fields, chunk);
  /** What the bucket holds besides finished media: staged chunks, assemblies, tail pieces. */
  const staged = async () =>
    (await store.list(''))
      .map((object) => object.key)
      .filter((key) => !key.startsWith('media/') && !key.startsWith('derived/'));
  const content = async (uploadId: string) =>
    (await request(t.url).get(`/api/media/${uploadId}/content`).set(user.auth).buffer(true)).body as Buffer;

  /** Sends the chunks in `order` (all `uploading`), then the last index again as `completed`. */
  async function upload(pieces: Buffer[], order: number[]): Promise<ChunkReply> {
    const fileId = newFileId('s3');
    for (const index of order) {
      const reply = await send(
        { fileId, chunkIndex: index, status: 'uploading', totalChunks: pieces.length },
        pieces[index],
      );
      expect(reply.status).toBe(200);
    }
    const last = pieces.length - 1;
    return send({ fileId, chunkIndex: last, status: 'completed', totalChunks: pieces.length }, pieces[last]);
  }

  async function expectStoredWhole(done: ChunkReply): Promise<void> {
    expect(done.status).toBe(200);
    expect(done.body.data).toMatchObject({
      fileSize: video.length,
      checksumSha256: sha256(video),
      mimeType: 'video/mp4',
    });
    const uploadId = done.body.data.uploadId as string;
    expect(sha256(await content(uploadId))).toBe(sha256(video));
    expect(await staged()).toEqual([]);
    expect(await s3.incompleteUploads(store.bucket)).toBe(0);
  }

  it('assembles 1 MiB chunks in order into the same bytes (SHA-256 of the reply and of the content)', async () => {
    const pieces = split(video, Math.ceil(video.length / MiB));
    await expectStoredWhole(
      await upload(
        pieces,
        pieces.map((_, index) => index),
      ),
    );
  });

  it('assembles 1 MiB chunks out of order (parked, then absorbed), byte for byte', async () => {
    const pieces = split(video, Math.ceil(video.length / MiB));
    const order = pieces.map((_, index) => index).sort((a, b) => (a % 3) - (b % 3) || b - a);
    await expectStoredWhole(await upload(pieces, order));
  });

  it('assembles 6 MiB chunks in order and out of order, byte for byte', async () => {
    const pieces = split(video, Math.ceil(video.length / (6 * MiB)));
    await expectStoredWhole(await upload(pieces, [0, 1, 2, 3]));
    await expectStoredWhole(await upload(pieces, [2, 3, 1, 0]));
  });

  it('assembles 10 MiB chunks (each streamed in as several parts, then copied as one), byte for byte', async () => {
    const pieces = split(video, 2);
    await expectStoredWhole(await upload(pieces, [1, 0]));
    await expectStoredWhole(await upload(pieces, [0, 1]));
  });

  /** Three 6 MiB chunks: the third request sends the first two as a part, so a multipart upload exists. */
  async function sessionWithParts(): Promise<{ fileId: string; uploadId: string }> {
    const fileId = newFileId('s3');
    const pieces = split(video.subarray(0, 18 * MiB), 3);
    let uploadId = '';
    for (const [index, piece] of pieces.entries()) {
      const reply = await send({ fileId, chunkIndex: index, status: 'uploading', totalChunks: 4 }, piece);
      expect(reply.status).toBe(200);
      uploadId = reply.body.data.uploadId as string;
    }
    expect(await s3.incompleteUploads(store.bucket)).toBe(1);
    expect((await staged()).some((key) => key.includes('/data.tail/'))).toBe(true);
    return { fileId, uploadId };
  }

  it('a session cancelled mid-way leaves no object and no multipart upload', async () => {
    const { uploadId } = await sessionWithParts();
    await request(t.url).post(`/api/upload/cancel/${uploadId}`).set(user.auth).expect(200);
    await waitFor(async () => (await staged()).length === 0);
    expect(await s3.incompleteUploads(store.bucket)).toBe(0);
  });

  it('a session expired mid-way (the sweeper) leaves no object and no multipart upload', async () => {
    const { uploadId } = await sessionWithParts();
    const report = await t.app.get(ExpirySweeper).sweep(new Date(Date.now() + 2 * EXPIRY_S * 1000));
    expect(report.expired).toBeGreaterThanOrEqual(1);
    expect(await staged()).toEqual([]);
    expect(await s3.incompleteUploads(store.bucket)).toBe(0);
    const status = await request(t.url).get(`/api/upload/progress/${uploadId}`).set(user.auth);
    expect(status.body.status).toBe('expired');
  });
});
