import { readFile } from 'node:fs/promises';
import request from 'supertest';
import { tusDataKey } from '../../src/chunk/tus/tus-file.store';
import { QuotaService } from '../../src/quota/quota.service';
import { mediaFixtures } from '../support/fixtures';
import { assemblyOf, storedNames } from '../support/stored-objects';
import { createTestApp, TestApp } from '../support/test-app';
import { registerUser, TestUser } from '../support/users';
import { createTusUpload, OCTETS, TUS, tusMetadata } from './tus-support';

const idOf = (location: unknown) => String(location).split('/').pop() as string;

describe('tus request rules', () => {
  let t: TestApp;
  let alice: TestUser;
  let mp4: Buffer;
  let jpeg: Buffer;

  beforeAll(async () => {
    t = await createTestApp();
    alice = await registerUser(t.url, 'alice');
    const fixtures = await mediaFixtures();
    [mp4, jpeg] = await Promise.all([readFile(fixtures.mp4), readFile(fixtures.jpeg)]);
  });

  afterAll(() => t.close());

  const patch = (id: string, offset: number, body: Buffer) =>
    request(t.url)
      .patch(`/api/tus/${id}`)
      .set({ ...alice.auth, ...TUS, ...OCTETS, 'Upload-Offset': String(offset) })
      .send(body);
  const record = (id: string) => t.connection.collection('media_uploads').findOne({ uploadId: id });
  /** A body of `size` bytes that starts like `head`. */
  const startingWith = (head: Buffer, size: number) =>
    Buffer.concat([head, Buffer.alloc(size - head.length, 7)]);

  it.each([
    ['POST', '/api/tus'],
    ['HEAD', '/api/tus/AAAAAAAAAAAAAAAAAAAAAA'],
    ['PATCH', '/api/tus/AAAAAAAAAAAAAAAAAAAAAA'],
  ])('%s with a Tus-Resumable other than 1.0.0 answers 412 with Tus-Version', async (method, path) => {
    const res = await request(t.url)
      [method.toLowerCase() as 'post' | 'head' | 'patch'](path)
      .set({
        ...alice.auth,
        ...OCTETS,
        'Tus-Resumable': '0.2.2',
        'Upload-Length': '10',
        'Upload-Offset': '0',
      });
    expect(res.status).toBe(412);
    expect(res.headers['tus-version']).toBe('1.0.0');
    if (method !== 'HEAD')
      expect(res.body).toMatchObject({ success: false, error: 'TUS_RESUMABLE_REQUIRED' });
  });

  it('a PATCH without Content-Type or with another one answers 415 and stores nothing', async () => {
    const id = await createTusUpload(t.url, alice.auth, mp4.length);
    const base = { ...alice.auth, ...TUS, 'Upload-Offset': '0' };
    const missing = await request(t.url).patch(`/api/tus/${id}`).set(base).expect(415);
    expect(missing.body).toMatchObject({ success: false, error: 'INVALID_CONTENT_TYPE' });
    await request(t.url)
      .patch(`/api/tus/${id}`)
      .set({ ...base, 'Content-Type': 'application/octet-stream' })
      .send(mp4)
      .expect(415);
    const offset = await request(t.url)
      .head(`/api/tus/${id}`)
      .set({ ...alice.auth, ...TUS })
      .expect(200);
    expect(offset.headers['upload-offset']).toBe('0');
  });

  it('builds Location without the Host header: a relative URL when neither PUBLIC_URL nor a trusted proxy says', async () => {
    const res = await request(t.url)
      .post('/api/tus')
      .set({ ...alice.auth, ...TUS, 'Upload-Length': '10', Host: 'attacker.example' })
      .expect(201);
    expect(res.headers.location).toMatch(/^\/api\/tus\/[A-Za-z0-9_-]{22}$/);
  });

  it('takes the category from filetype when fileType is absent (Uppy), and allows either without both', async () => {
    const photo = await createTusUpload(t.url, alice.auth, jpeg.length, {
      filename: 'still.jpg',
      filetype: 'image/jpeg',
    });
    await patch(photo, 0, jpeg).expect(204);
    expect(await record(photo)).toMatchObject({
      status: 'completed',
      fileType: 'photo',
      mimeType: 'image/jpeg',
    });

    const bare = await createTusUpload(t.url, alice.auth, jpeg.length, { filename: 'IMG_0001' });
    await patch(bare, 0, jpeg).expect(204);
    expect(await record(bare)).toMatchObject({ status: 'completed', fileType: 'camera' });
  });

  it('refuses the wrong content on the first PATCH that brings its head, terminating the upload', async () => {
    const size = 3 * 1024 * 1024;
    const body = startingWith(jpeg, size);
    const id = await createTusUpload(t.url, alice.auth, size, {
      filename: 'clip.mp4',
      filetype: 'video/mp4',
    });
    await patch(id, 0, body.subarray(0, 1000)).expect(204); // not enough to tell yet

    const res = await patch(id, 1000, body.subarray(1000, 1024 * 1024)).expect(415);
    expect(res.body).toMatchObject({ success: false, error: 'UNSUPPORTED_MEDIA_TYPE' });
    expect(await record(id)).toMatchObject({ status: 'failed' });
    expect(await storedNames(t, 'tus')).not.toContain(id);
    expect(await t.connection.collection('tus_uploads').findOne({ uploadId: id })).toBeNull();
    await patch(id, 1000, body.subarray(1000, 2000)).expect(410);
  });

  it('refuses the wrong content in a creation-with-upload, leaving no bytes and a failed record', async () => {
    const size = 64 * 1024;
    const res = await request(t.url)
      .post('/api/tus')
      .set({
        ...alice.auth,
        ...TUS,
        ...OCTETS,
        'Upload-Length': String(size),
        'Upload-Metadata': tusMetadata({ filetype: 'video/mp4' }),
      })
      .send(startingWith(jpeg, size))
      .expect(415);
    expect(res.body).toMatchObject({ error: 'UNSUPPORTED_MEDIA_TYPE' });
    const failed = await t.connection
      .collection('media_uploads')
      .findOne({ status: 'failed', fileType: 'video' }, { sort: { _id: -1 } });
    expect(failed).not.toBeNull();
    expect(await storedNames(t, 'tus')).not.toContain(failed?.uploadId);
  });

  it('refuses a POST to an upload URL unless it overrides the method to PATCH or DELETE, creating nothing', async () => {
    const before = await t.connection.collection('media_uploads').countDocuments();
    const files = await storedNames(t, 'tus');
    for (const headers of [{}, { 'X-HTTP-Method-Override': 'POST' }, { 'X-HTTP-Method-Override': 'HEAD' }]) {
      const res = await request(t.url)
        .post('/api/tus/anything-at-all')
        .set({ ...alice.auth, ...TUS, 'Upload-Length': '10', ...headers })
        .expect(400);
      expect(res.body).toMatchObject({ success: false, error: 'INVALID_TUS_HEADER' });
    }
    const id = await createTusUpload(t.url, alice.auth, mp4.length);
    await request(t.url)
      .patch(`/api/tus/${id}`)
      .set({ ...alice.auth, ...TUS, 'Upload-Length': '10', 'X-HTTP-Method-Override': 'POST' })
      .expect(400);
    expect(await t.connection.collection('media_uploads').countDocuments()).toBe(before + 1);
    expect((await storedNames(t, 'tus')).length).toBe(files.length + 1);

    const overridden = await request(t.url)
      .post(`/api/tus/${id}`)
      .set({ ...alice.auth, ...TUS, ...OCTETS, 'Upload-Offset': '0', 'X-HTTP-Method-Override': 'PATCH' })
      .send(mp4)
      .expect(204);
    expect(overridden.headers['upload-offset']).toBe(String(mp4.length));
  });
});

describe('tus Location with PUBLIC_URL', () => {
  let t: TestApp;
  let alice: TestUser;

  beforeAll(async () => {
    t = await createTestApp({ env: { PUBLIC_URL: 'https://media.example.com/base/', TRUST_PROXY: 'true' } });
    alice = await registerUser(t.url, 'alice');
  });

  afterAll(() => t.close());

  it('builds Location from PUBLIC_URL, whatever Host and X-Forwarded-Host say', async () => {
    const res = await request(t.url)
      .post('/api/tus')
      .set({
        ...alice.auth,
        ...TUS,
        'Upload-Length': '10',
        Host: 'attacker.example',
        'X-Forwarded-Host': 'attacker.example',
      })
      .expect(201);
    expect(res.headers.location).toMatch(
      /^https:\/\/media\.example\.com\/base\/api\/tus\/[A-Za-z0-9_-]{22}$/,
    );
  });
});

describe('tus creation rate limit', () => {
  let t: TestApp;
  let alice: TestUser;

  beforeAll(async () => {
    t = await createTestApp({ env: { THROTTLE_UPLOAD_LIMIT: '3' } });
    alice = await registerUser(t.url, 'alice');
  });

  afterAll(() => t.close());

  it('no route creates uploads past the limit: POST /api/tus answers 429 and POST /api/tus/<anything> creates nothing', async () => {
    const create = () =>
      request(t.url)
        .post('/api/tus')
        .set({ ...alice.auth, ...TUS, 'Upload-Length': '10' });
    for (let i = 0; i < 3; i += 1) await create().expect(201);
    await create().expect(429);

    const statuses = new Set<number>();
    for (let i = 0; i < 20; i += 1) {
      const res = await request(t.url)
        .post(`/api/tus/bypass${i}`)
        .set({ ...alice.auth, ...TUS, 'Upload-Length': '10' });
      statuses.add(res.status);
    }
    expect([...statuses]).toEqual([400]);
    expect(await t.connection.collection('media_uploads').countDocuments()).toBe(3);
    expect(await storedNames(t, 'tus')).toHaveLength(3);
  });
});

describe('tus quota for uploads with a deferred length', () => {
  const QUOTA = 1024 * 1024;
  let t: TestApp;
  let alice: TestUser;
  let mp4: Buffer;

  beforeAll(async () => {
    t = await createTestApp({ env: { USER_QUOTA_BYTES: String(QUOTA) } });
    alice = await registerUser(t.url, 'alice');
    mp4 = await readFile((await mediaFixtures()).mp4);
  });

  afterAll(() => t.close());

  const deferred = async () => {
    const res = await request(t.url)
      .post('/api/tus')
      .set({
        ...alice.auth,
        ...TUS,
        'Upload-Defer-Length': '1',
        'Upload-Metadata': tusMetadata({ fileType: 'video' }),
      })
      .expect(201);
    return idOf(res.headers.location);
  };
  const patch = (id: string, offset: number, body: Buffer) =>
    request(t.url)
      .patch(`/api/tus/${id}`)
      .set({ ...alice.auth, ...TUS, ...OCTETS, 'Upload-Offset': String(offset) })
      .send(body);
  const stored = async (id: string) => (await assemblyOf(t, tusDataKey(id)).length()) ?? 0;
  const body = (size: number) => Buffer.concat([mp4, Buffer.alloc(size - mp4.length, 1)]);

  it('counts the bytes as they arrive and stops a write at the quota with 413, deleting the excess', async () => {
    const [first, second, third] = [await deferred(), await deferred(), await deferred()];
    await patch(first, 0, body(600_000)).expect(204);
    expect(await t.app.get(QuotaService).usage(alice.id)).toBe(600_000);

    const over = await patch(second, 0, body(600_000)).expect(413);
    expect(over.body).toMatchObject({ success: false, error: 'QUOTA_EXCEEDED' });
    expect(await stored(second)).toBe(0);
    await patch(third, 0, body(5.25 * 1024 * 1024)).expect(413);
    expect(await stored(third)).toBe(0);
    await patch(first, 600_000, Buffer.alloc(500_000, 1)).expect(413);
    expect(await stored(first)).toBe(600_000);
    expect(await t.app.get(QuotaService).usage(alice.id)).toBe(600_000);

    // Declaring the length of what is stored fits: those bytes are not counted twice.
    await request(t.url)
      .patch(`/api/tus/${first}`)
      .set({ ...alice.auth, ...TUS, ...OCTETS, 'Upload-Offset': '600000', 'Upload-Length': '600000' })
      .expect(204);
    expect(await t.connection.collection('media_uploads').findOne({ uploadId: first })).toMatchObject({
      status: 'completed',
      fileSize: 600_000,
    });
    await patch(second, 0, body(400_000)).expect(204);
  });
});
