import { Types } from 'mongoose';
import request from 'supertest';
import {
  CHUNK_METADATA_BYTES,
  MAX_CHUNKS_PER_SESSION,
  SESSION_METADATA_BYTES,
} from '../../src/chunk/seed/chunk-rules';
import { storedNames } from '../support/stored-objects';
import { createTestApp, TestApp } from '../support/test-app';
import { registerUser, TestUser } from '../support/users';
import { newFileId, postChunk } from './seed-support';

const QUOTA = 8192;

describe('Seed chunk API: chunk count cap and metadata quota', () => {
  let t: TestApp;
  let user: TestUser;

  beforeAll(async () => {
    t = await createTestApp({ env: { USER_QUOTA_BYTES: String(QUOTA), THROTTLE_CHUNK_LIMIT: '1000000' } });
  });
  beforeEach(async () => {
    user = await registerUser(t.url); // each test starts with an empty quota
  });
  afterAll(() => t.close());

  const send = (fields: Record<string, string | number | undefined>, file = Buffer.from('x')) =>
    postChunk(t.url, user.token, fields, file);
  const session = (fileId: string) =>
    t.connection.collection('chunk_sessions').findOne({ fileId, userId: new Types.ObjectId(user.id) });

  it(`accepts chunk ${MAX_CHUNKS_PER_SESSION - 1} and refuses ${MAX_CHUNKS_PER_SESSION} with 400 TOO_MANY_CHUNKS`, async () => {
    const fileId = newFileId();
    const tooMany = { success: false, error: 'TOO_MANY_CHUNKS', limit: MAX_CHUNKS_PER_SESSION };
    // Refused as a first chunk, nothing is created.
    const first = await send({ fileId, chunkIndex: MAX_CHUNKS_PER_SESSION, status: 'uploading' });
    expect(first.status).toBe(400);
    expect(first.body).toMatchObject(tooMany);
    expect(await session(fileId)).toBeNull();

    expect((await send({ fileId, chunkIndex: 0, status: 'uploading' })).status).toBe(200);
    const last = await send({ fileId, chunkIndex: MAX_CHUNKS_PER_SESSION - 1, status: 'uploading' });
    expect(last.status).toBe(200);
    for (const fields of [
      { chunkIndex: MAX_CHUNKS_PER_SESSION, status: 'uploading' },
      { chunkIndex: 1, status: 'uploading', totalChunks: MAX_CHUNKS_PER_SESSION + 1 },
    ]) {
      const refused = await send({ fileId, ...fields });
      expect(refused.status).toBe(400);
      expect(refused.body).toMatchObject(tooMany);
    }
    expect(await session(fileId)).toMatchObject({ receivedCount: 2, bytesReceived: 2 });
    const status = await request(t.url).get(`/api/video/status/${fileId}`).set(user.auth).expect(200);
    expect(status.body.data.receivedChunks).toEqual([0, MAX_CHUNKS_PER_SESSION - 1]);
    const declared = await send({
      fileId,
      chunkIndex: 1,
      status: 'uploading',
      totalChunks: MAX_CHUNKS_PER_SESSION,
    });
    expect(declared.status).toBe(200);
  });

  it('counts each chunk and session record against the quota, so tiny chunks cannot grow past it', async () => {
    const fileId = newFileId();
    let accepted = 0;
    let refused: { status: number; body: Record<string, unknown> } | undefined;
    for (let chunkIndex = 0; chunkIndex < 100 && !refused; chunkIndex += 1) {
      const reply = await send({ fileId, chunkIndex, status: 'uploading' });
      if (reply.status === 200) accepted += 1;
      else refused = reply;
    }
    // 1 byte of payload each, but SESSION_METADATA_BYTES + n × (1 + CHUNK_METADATA_BYTES) must fit in the quota.
    const fits = Math.floor((QUOTA - SESSION_METADATA_BYTES) / (1 + CHUNK_METADATA_BYTES));
    expect(refused).toMatchObject({ status: 413, body: { error: 'QUOTA_EXCEEDED', limitBytes: QUOTA } });
    expect(accepted).toBeGreaterThanOrEqual(fits - 1);
    expect(accepted).toBeLessThanOrEqual(fits);
    const record = await session(fileId);
    expect(record).toMatchObject({ receivedCount: accepted, bytesReceived: accepted });
    const dir = `chunks/${user.id}/${String(record?.uploadId)}`;
    expect(await storedNames(t, dir)).toEqual(['data', 'manifest']);
    expect(await storedNames(t, 'tmp')).toEqual([]);

    // Cancelling the session gives its quota back.
    await request(t.url)
      .post(`/api/upload/cancel/${String(record?.uploadId)}`)
      .set(user.auth)
      .expect(200);
    expect((await send({ fileId: newFileId(), chunkIndex: 0, status: 'uploading' })).status).toBe(200);
  });
});
