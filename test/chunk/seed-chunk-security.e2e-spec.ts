import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Types } from 'mongoose';
import request from 'supertest';
import { mediaFixtures } from '../support/fixtures';
import { readStored, storedKeys } from '../support/stored-objects';
import { createTestApp, TestApp } from '../support/test-app';
import { registerUser, TestUser } from '../support/users';
import { listFiles, newFileId, postChunk, sha256, split } from './seed-support';

describe('Seed chunk API: fileId safety and user isolation', () => {
  let sandbox: string;
  let t: TestApp;
  let alice: TestUser;
  let bob: TestUser;
  let webm: Buffer;
  let mp4: Buffer;

  beforeAll(async () => {
    // The upload root sits inside a folder of its own, so "nothing outside the root" can be checked exactly.
    sandbox = await mkdtemp(join(tmpdir(), 'seed-chunk-sandbox-'));
    t = await createTestApp({ uploadDir: join(sandbox, 'uploads') });
    [alice, bob] = await Promise.all([registerUser(t.url, 'alice'), registerUser(t.url, 'bob')]);
    const fixtures = await mediaFixtures();
    [webm, mp4] = await Promise.all([readFile(fixtures.webm), readFile(fixtures.mp4)]);
  });
  afterAll(async () => {
    await t.close();
    await rm(sandbox, { recursive: true, force: true });
  });

  const TRAVERSAL_IDS = [
    '../x',
    '../../../../tmp/evil',
    '%2e%2e%2f',
    '..%2F',
    '..%2fx',
    '/etc/passwd',
    '..\\..\\x',
    'a\\b',
    'a\u0000b',
    '..',
    '.',
    'a/b',
    'a b',
    'é',
    '',
    'x'.repeat(129),
  ];

  it.each(['fields-first', 'file-first'] as const)(
    'refuses path-traversal fileIds with 400 and creates nothing anywhere (%s)',
    async (order) => {
      // The sandbox holds the app's upload folder; on S3 its bytes are in the bucket.
      const everything = async () => [...(await listFiles(sandbox)), ...(await storedKeys(t))];
      const before = await everything();
      for (const fileId of TRAVERSAL_IDS) {
        const reply = await postChunk(
          t.url,
          alice.token,
          { fileId, chunkIndex: 0, status: 'uploading' },
          webm,
          {
            order,
          },
        );
        expect({ fileId, status: reply.status }).toEqual({ fileId, status: 400 });
        expect(reply.body).toMatchObject({ success: false, error: 'VALIDATION_FAILED' });
        const completed = await postChunk(
          t.url,
          alice.token,
          { fileId, chunkIndex: 0, status: 'completed' },
          undefined,
        );
        expect(completed.status).toBe(400);
      }
      expect(await everything()).toEqual(before);
      expect(await t.connection.collection('chunk_sessions').countDocuments()).toBe(0);
      expect(await t.connection.collection('media_uploads').countDocuments()).toBe(0);
    },
  );

  it('refuses traversal fileIds on the status route', async () => {
    for (const raw of [
      '..%2Fx',
      '%2e%2e%2f',
      '%2Fetc%2Fpasswd',
      'a%5Cb',
      'a%00b',
      '..',
      '%2e%2e',
      'x'.repeat(129),
    ]) {
      const res = await request(t.url).get(`/api/video/status/${raw}`).set(alice.auth);
      expect({ raw, status: res.status }).toEqual({ raw, status: 400 });
    }
    // Unencoded slashes never reach the route at all.
    const res = await request(t.url).get('/api/video/status/../x').set(alice.auth);
    expect([400, 404]).toContain(res.status);
  });

  it('requires a bearer token on both routes', async () => {
    await request(t.url).get('/api/video/status/abc').expect(401);
    const reply = await postChunk(
      t.url,
      'not-a-token',
      { fileId: 'abc', chunkIndex: 0, status: 'uploading' },
      webm,
    );
    expect(reply.status).toBe(401);
    expect(await t.connection.collection('chunk_sessions').countDocuments()).toBe(0);
  });

  it('keeps the same fileId of two users in two sessions that never touch each other', async () => {
    const fileId = newFileId('shared');
    const aPieces = split(webm, 3);
    const bPieces = split(mp4, 3);
    const a0 = await postChunk(
      t.url,
      alice.token,
      { fileId, chunkIndex: 0, status: 'uploading' },
      aPieces[0],
    );
    // Bob's chunk 0 with other bytes is no conflict: it is his own session.
    const b0 = await postChunk(t.url, bob.token, { fileId, chunkIndex: 0, status: 'uploading' }, bPieces[0]);
    expect([a0.status, b0.status]).toEqual([200, 200]);
    expect(b0.body.data.duplicate).toBe(false);
    const aId = a0.body.data.uploadId as string;
    const bId = b0.body.data.uploadId as string;
    expect(aId).not.toBe(bId);

    // Bob's next chunk lands in his session only.
    const b1 = await postChunk(t.url, bob.token, { fileId, chunkIndex: 1, status: 'uploading' }, bPieces[1]);
    expect(b1.body.data).toMatchObject({ uploadId: bId, receivedCount: 2 });
    const aStatus = await request(t.url).get(`/api/video/status/${fileId}`).set(alice.auth).expect(200);
    expect(aStatus.body.data).toMatchObject({
      uploadId: aId,
      receivedChunks: [0],
      fileSize: aPieces[0].length,
    });

    // Bob can neither read, follow nor cancel Alice's upload by its uploadId.
    await request(t.url).get(`/api/upload/progress/${aId}`).set(bob.auth).expect(404);
    await request(t.url).post(`/api/upload/cancel/${aId}`).set(bob.auth).expect(404);
    await request(t.url).post(`/api/upload/progress/${aId}/events/ticket`).set(bob.auth).expect(404);

    // Carol, who never used the fileId, learns nothing: the same answer as for an unknown id.
    const carol = await registerUser(t.url, 'carol');
    const seen = await request(t.url).get(`/api/video/status/${fileId}`).set(carol.auth).expect(200);
    const unknown = await request(t.url).get('/api/video/status/never_used').set(carol.auth).expect(200);
    expect(seen.body.data).toEqual({ ...unknown.body.data, fileId });
    expect(seen.body.data).toMatchObject({ exists: false, fileSize: 0, lastModified: null, uploadId: null });

    // Both finish independently, each byte-identical to its own source.
    const a1 = await postChunk(
      t.url,
      alice.token,
      { fileId, chunkIndex: 1, status: 'uploading' },
      aPieces[1],
    );
    const a2 = await postChunk(
      t.url,
      alice.token,
      { fileId, chunkIndex: 2, status: 'completed' },
      aPieces[2],
    );
    expect([a1.status, a2.status]).toEqual([200, 200]);
    const bDone = await postChunk(
      t.url,
      bob.token,
      { fileId, chunkIndex: 2, status: 'completed' },
      bPieces[2],
    );
    expect(bDone.status).toBe(200);
    const aFile = await readStored(t, `media/${alice.id}/${aId}.webm`);
    const bFile = await readStored(t, `media/${bob.id}/${bId}.mp4`);
    expect(sha256(aFile)).toBe(sha256(webm));
    expect(sha256(bFile)).toBe(sha256(mp4));
    const sessions = await t.connection
      .collection('chunk_sessions')
      .find({ fileId })
      .project({ userId: 1, uploadId: 1, status: 1, _id: 0 })
      .toArray();
    expect(sessions).toHaveLength(2);
    expect(sessions).toEqual(
      expect.arrayContaining([
        { userId: new Types.ObjectId(alice.id), uploadId: aId, status: 'completed' },
        { userId: new Types.ObjectId(bob.id), uploadId: bId, status: 'completed' },
      ]),
    );
  });
});
