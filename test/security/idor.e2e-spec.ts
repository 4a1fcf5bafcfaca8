import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import request from 'supertest';
import { postChunk, split } from '../chunk/seed-support';
import { createTusUpload, OCTETS, TUS } from '../chunk/tus-support';
import { mediaFixtures } from '../support/fixtures';
import { createTestApp, TestApp } from '../support/test-app';
import { registerUser, TestUser } from '../support/users';
import { snapshot } from './support/attack-support';

type Call = (id: string) => request.Test;

/** Every route that takes an upload id, in every API. */
const BY_UPLOAD_ID: [string, (t: TestApp) => Call][] = [
  ['GET /api/media/:id', (t) => (id) => request(t.url).get(`/api/media/${id}`)],
  ['GET /api/media/:id/content', (t) => (id) => request(t.url).get(`/api/media/${id}/content`)],
  ['POST /api/media/:id/signed-url', (t) => (id) => request(t.url).post(`/api/media/${id}/signed-url`)],
  ['DELETE /api/media/:id', (t) => (id) => request(t.url).delete(`/api/media/${id}`)],
  ['GET /api/upload/progress/:id', (t) => (id) => request(t.url).get(`/api/upload/progress/${id}`)],
  [
    'POST /api/upload/progress/:id/events/ticket',
    (t) => (id) => request(t.url).post(`/api/upload/progress/${id}/events/ticket`),
  ],
  [
    'GET /api/upload/progress/:id/events',
    (t) => (id) => request(t.url).get(`/api/upload/progress/${id}/events`),
  ],
  ['POST /api/upload/cancel/:id', (t) => (id) => request(t.url).post(`/api/upload/cancel/${id}`)],
  ['HEAD /api/tus/:id', (t) => (id) => request(t.url).head(`/api/tus/${id}`).set(TUS)],
  [
    'PATCH /api/tus/:id',
    (t) => (id) =>
      request(t.url)
        .patch(`/api/tus/${id}`)
        .set({ ...TUS, ...OCTETS, 'Upload-Offset': '4' })
        .send(Buffer.from('evil')),
  ],
  ['DELETE /api/tus/:id', (t) => (id) => request(t.url).delete(`/api/tus/${id}`).set(TUS)],
  [
    'POST /api/tus/:id (X-HTTP-Method-Override: DELETE)',
    (t) => (id) =>
      request(t.url)
        .post(`/api/tus/${id}`)
        .set({ ...TUS, 'X-HTTP-Method-Override': 'DELETE' }),
  ],
];

describe("IDOR: another user's uploads, in every API, answer exactly like missing ones and never change", () => {
  let t: TestApp;
  let alice: TestUser;
  let bob: TestUser;
  const ids: Record<string, string> = {};
  let chunkFileId: string;

  beforeAll(async () => {
    t = await createTestApp({ env: { PROGRESS_PERSIST_MS: '100' } });
    alice = await registerUser(t.url, 'alice');
    bob = await registerUser(t.url, 'bob');
    const { jpeg, webm } = await mediaFixtures();

    const photo = await request(t.url)
      .post('/api/upload/media')
      .set(alice.auth)
      .set('X-Upload-Id', 'alice-photo-0001')
      .field('fileType', 'photo')
      .attach('file', jpeg)
      .expect(201);
    ids.completedMultipart = photo.body.uploadId as string;

    ids.tusInFlight = await createTusUpload(t.url, alice.auth, 64);
    await request(t.url)
      .patch(`/api/tus/${ids.tusInFlight}`)
      .set({ ...alice.auth, ...TUS, ...OCTETS, 'Upload-Offset': '0' })
      .send(Buffer.from('four'))
      .expect(204);

    chunkFileId = 'alice-recording-1';
    const chunk = await postChunk(
      t.url,
      alice.token,
      { fileId: chunkFileId, chunkIndex: 0, status: 'uploading', totalChunks: 2 },
      split(await readFile(webm), 2)[0],
    );
    expect(chunk.status).toBe(200);
    ids.chunkSession = chunk.body.data.uploadId as string;
    // Let alice's own live progress reach the database, so the snapshots below only see what bob causes.
    await sleep(400);
  });
  afterAll(() => t.close());

  const kinds = ['completedMultipart', 'tusInFlight', 'chunkSession'];
  const cases = kinds.flatMap((kind) => BY_UPLOAD_ID.map(([route, call]) => [kind, route, call] as const));

  it.each(cases)("bob → alice's %s: %s answers 404 like a missing id", async (kind, _route, call) => {
    const before = await snapshot(t);
    const theirs = await call(t)(ids[kind]).set(bob.auth);
    const missing = await call(t)('no-such-upload-0000').set(bob.auth);
    expect(theirs.status).toBe(404);
    expect(missing.status).toBe(404);
    if (theirs.body && typeof theirs.body === 'object' && Object.keys(theirs.body as object).length) {
      expect({ ...theirs.body, requestId: '' }).toEqual({ ...missing.body, requestId: '' });
    }
    expect(await snapshot(t)).toEqual(before);
  });

  it("bob's GET /api/media lists none of alice's uploads, whatever the filters", async () => {
    const res = await request(t.url)
      .get('/api/media')
      .query({ status: 'uploading' })
      .set(bob.auth)
      .expect(200);
    expect(res.body.items).toEqual([]);
    const all = await request(t.url).get('/api/media').set(bob.auth).expect(200);
    expect(all.body.items).toEqual([]);
  });

  it("bob's chunk status for alice's fileId says it does not exist (fileIds are private to each user)", async () => {
    const res = await request(t.url).get(`/api/video/status/${chunkFileId}`).set(bob.auth).expect(200);
    expect(res.body.data).toMatchObject({ exists: false, receivedChunks: [] });
  });

  it("bob appending a chunk to alice's fileId starts his own session and leaves hers untouched", async () => {
    const aliceSession = () =>
      t.connection.collection('chunk_sessions').findOne({ uploadId: ids.chunkSession });
    const before = JSON.stringify(await aliceSession());
    const res = await postChunk(
      t.url,
      bob.token,
      { fileId: chunkFileId, chunkIndex: 1, status: 'uploading' },
      Buffer.from('bob bytes'),
    );
    expect(res.status).toBe(200);
    expect(res.body.data.uploadId).not.toBe(ids.chunkSession);
    expect(JSON.stringify(await aliceSession())).toBe(before);
    const mine = await request(t.url).get(`/api/video/status/${chunkFileId}`).set(alice.auth).expect(200);
    expect(mine.body.data).toMatchObject({ exists: true, receivedChunks: [0] });
  });

  it("alice's uploads still work for alice", async () => {
    await request(t.url).get(`/api/media/${ids.completedMultipart}/content`).set(alice.auth).expect(200);
    const head = await request(t.url)
      .head(`/api/tus/${ids.tusInFlight}`)
      .set({ ...alice.auth, ...TUS })
      .expect(200);
    expect(head.headers['upload-offset']).toBe('4');
  });
});
