import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import request from 'supertest';
import { mediaFixtures } from '../support/fixtures';
import { storedNames } from '../support/stored-objects';
import { createTestApp, TestApp } from '../support/test-app';
import { registerUser, TestUser } from '../support/users';
import { OCTETS, TUS, tusMetadata } from './tus-support';

const listed = (body: { items: { uploadId: string }[] }) => body.items.map((item) => item.uploadId);
const VIDEO = { filename: 'joined.mp4', fileType: 'video' };

describe('tus concatenation, raw protocol', () => {
  let t: TestApp;
  let alice: TestUser;
  let bob: TestUser;
  let mp4: Buffer;

  beforeAll(async () => {
    t = await createTestApp();
    [alice, bob] = await Promise.all([registerUser(t.url, 'alice'), registerUser(t.url, 'bob')]);
    mp4 = await readFile((await mediaFixtures()).mp4);
  });

  afterAll(() => t.close());

  const uploads = () => t.connection.collection('media_uploads');

  /** Creates a partial upload of `length` bytes; returns its id. */
  async function createPartial(user: TestUser, length: number): Promise<string> {
    const res = await request(t.url)
      .post('/api/tus')
      .set({ ...user.auth, ...TUS, 'Upload-Concat': 'partial', 'Upload-Length': String(length) })
      .expect(201);
    expect(res.headers['upload-concat']).toBe('partial');
    return String(res.headers.location).split('/').pop() as string;
  }

  async function patch(user: TestUser, id: string, offset: number, bytes: Buffer, status = 204) {
    await request(t.url)
      .patch(`/api/tus/${id}`)
      .set({ ...user.auth, ...TUS, ...OCTETS, 'Upload-Offset': String(offset) })
      .send(bytes)
      .expect(status);
  }

  /** Partial uploads holding `pieces`, each complete. */
  async function completePartials(user: TestUser, pieces: Buffer[]): Promise<string[]> {
    const ids: string[] = [];
    for (const piece of pieces) {
      const id = await createPartial(user, piece.length);
      await patch(user, id, 0, piece);
      ids.push(id);
    }
    return ids;
  }

  function createFinal(user: TestUser, ids: string[], extra: Record<string, string> = {}) {
    return request(t.url)
      .post('/api/tus')
      .set({
        ...user.auth,
        ...TUS,
        'Upload-Concat': `final;${ids.map((id) => `${t.url}/api/tus/${id}`).join(' ')}`,
        'Upload-Metadata': tusMetadata(VIDEO),
        ...extra,
      });
  }

  /** What a refused final upload must leave unchanged: every record and stored tus object. */
  async function snapshot() {
    const records = await uploads()
      .find({}, { projection: { uploadId: 1, status: 1 } })
      .sort({ uploadId: 1 })
      .toArray();
    return { records, tus: await storedNames(t, 'tus') };
  }

  it('announces concatenation, and a partial upload answers HEAD with Upload-Concat: partial', async () => {
    const options = await request(t.url).options('/api/tus').expect(204);
    expect(String(options.headers['tus-extension']).split(',')).toContain('concatenation');

    const id = await createPartial(alice, 1000);
    const head = await request(t.url)
      .head(`/api/tus/${id}`)
      .set({ ...alice.auth, ...TUS })
      .expect(200);
    expect(head.headers).toMatchObject({
      'upload-concat': 'partial',
      'upload-length': '1000',
      'upload-offset': '0',
    });
  });

  it('takes bytes that are no media into a partial upload (a slice), and never lists a partial upload as media', async () => {
    const [id] = await completePartials(alice, [randomBytes(6000)]);
    expect(await uploads().findOne({ uploadId: id })).toMatchObject({
      status: 'uploading',
      concat: 'partial',
    });
    const library = await request(t.url).get('/api/media').set(alice.auth).expect(200);
    expect(listed(library.body)).not.toContain(id);
    const head = await request(t.url)
      .head(`/api/tus/${id}`)
      .set({ ...alice.auth, ...TUS })
      .expect(200);
    expect(head.headers).toMatchObject({ 'upload-offset': '6000', 'upload-length': '6000' });
  });

  it('joins partial uploads given as path URLs into media; PATCH to the final upload is 403', async () => {
    const cut = 1000;
    const ids = await completePartials(alice, [mp4.subarray(0, cut), mp4.subarray(cut)]);
    const res = await request(t.url)
      .post('/api/tus')
      .set({
        ...alice.auth,
        ...TUS,
        'Upload-Concat': `final;/api/tus/${ids[0]} /api/tus/${ids[1]}`,
        'Upload-Metadata': tusMetadata(VIDEO),
      })
      .expect(201);
    const id = String(res.headers.location).split('/').pop() as string;
    expect(await uploads().findOne({ uploadId: id })).toMatchObject({
      status: 'completed',
      concat: 'final',
      fileSize: mp4.length,
      originalName: 'joined.mp4',
    });
    expect(await uploads().countDocuments({ uploadId: { $in: ids } })).toBe(0);
    await request(t.url)
      .patch(`/api/tus/${id}`)
      .set({ ...alice.auth, ...TUS, ...OCTETS, 'Upload-Offset': '0' })
      .send(Buffer.from('x'))
      .expect(403);
  });

  it("refuses a final upload naming another user's partial upload with 404, and changes nothing", async () => {
    const [own] = await completePartials(alice, [mp4.subarray(0, 1000)]);
    const [bobs] = await completePartials(bob, [mp4.subarray(1000)]);
    const before = await snapshot();
    const res = await createFinal(alice, [own, bobs]).expect(404);
    expect(res.body).toMatchObject({ success: false, error: 'NOT_FOUND' });
    expect(await snapshot()).toEqual(before);
    // Bob's partial upload is intact and still his to join.
    const [bobsHead] = await completePartials(bob, [mp4.subarray(0, 1000)]);
    await createFinal(bob, [bobsHead, bobs]).expect(201);
  });

  it('refuses a final upload before its partial uploads are complete (400), and changes nothing', async () => {
    const [done] = await completePartials(alice, [mp4.subarray(0, 1000)]);
    const unfinished = await createPartial(alice, mp4.length - 1000);
    await patch(alice, unfinished, 0, mp4.subarray(1000, 5000));
    const before = await snapshot();
    const res = await createFinal(alice, [done, unfinished]).expect(400);
    expect(res.body).toMatchObject({ error: 'PARTIAL_UPLOAD_INCOMPLETE' });
    expect(await snapshot()).toEqual(before);
    // Finished, the same partial uploads make the media.
    await patch(alice, unfinished, 4000, mp4.subarray(5000));
    await createFinal(alice, [done, unfinished]).expect(201);
  });

  it('refuses malformed final uploads with 400: Upload-Length sent, a partial twice, a non-partial upload', async () => {
    const [partial] = await completePartials(alice, [mp4.subarray(0, 1000)]);
    const plain = String(
      (
        await request(t.url)
          .post('/api/tus')
          .set({ ...alice.auth, ...TUS, 'Upload-Length': '10' })
          .expect(201)
      ).headers.location,
    )
      .split('/')
      .pop() as string;
    const before = await snapshot();
    for (const [ids, extra] of [
      [[partial], { 'Upload-Length': '1000' }],
      [[partial, partial], {}],
      [[partial, plain], {}],
    ] as const) {
      const res = await createFinal(alice, [...ids], extra).expect(400);
      expect(res.body).toMatchObject({ success: false, error: 'INVALID_UPLOAD_CONCAT' });
    }
    await request(t.url)
      .post('/api/tus')
      .set({ ...alice.auth, ...TUS, 'Upload-Concat': 'final;/api/media/whatever' })
      .expect(400);
    expect(await snapshot()).toEqual(before);
  });

  it('refuses a final upload whose joined content is no media with 415, and removes it and its partial uploads', async () => {
    const ids = await completePartials(alice, [randomBytes(5000), randomBytes(3000)]);
    const res = await createFinal(alice, ids).expect(415);
    expect(res.body).toMatchObject({ success: false, error: 'UNSUPPORTED_MEDIA_TYPE' });
    const ended = await uploads()
      .find({ uploadId: { $in: ids } })
      .toArray();
    expect(ended.map((record) => record.status)).toEqual(['failed', 'failed']);
    const final = await uploads().findOne({ concat: 'final', status: 'failed' });
    expect(final).toMatchObject({ source: 'tus', fileType: 'video' });
    const tusLeft = await storedNames(t, 'tus');
    for (const id of [...ids, String(final?.uploadId)]) {
      expect(tusLeft).not.toContain(id);
      expect(await t.connection.collection('tus_uploads').findOne({ uploadId: id })).toBeNull();
    }
    expect(await storedNames(t, `media/${alice.id}`)).not.toContain(`${String(final?.uploadId)}.mp4`);
  });
});
