import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import request from 'supertest';
import { tusDataKey } from '../../src/chunk/tus/tus-file.store';
import { TusUpload } from '../../src/chunk/tus/schemas/tus-upload.schema';
import { mediaFixtures } from '../support/fixtures';
import { assemblyOf, storedNames, storedSha256 } from '../support/stored-objects';
import { createTestApp, TestApp } from '../support/test-app';
import { registerUser, TestUser } from '../support/users';
import { createTusUpload, OCTETS, sha256File, TUS, tusMetadata } from './tus-support';

describe('tus 1.0 at /api/tus', () => {
  let t: TestApp;
  let alice: TestUser;
  let bob: TestUser;
  let mp4: Buffer;
  let mp4Path: string;

  beforeAll(async () => {
    t = await createTestApp({ env: { MAX_RESUMABLE_BYTES: '5000000', CORS_ORIGINS: 'https://app.example' } });
    [alice, bob] = await Promise.all([registerUser(t.url, 'alice'), registerUser(t.url, 'bob')]);
    mp4Path = (await mediaFixtures()).mp4;
    mp4 = await readFile(mp4Path);
  });

  afterAll(() => t.close());

  const head = (id: string, user: TestUser = alice) =>
    request(t.url)
      .head(`/api/tus/${id}`)
      .set({ ...user.auth, ...TUS });
  const patch = (id: string, offset: number, body: Buffer, user: TestUser = alice) =>
    request(t.url)
      .patch(`/api/tus/${id}`)
      .set({ ...user.auth, ...TUS, ...OCTETS, 'Upload-Offset': String(offset) })
      .send(body);
  const record = (id: string) => t.connection.collection('media_uploads').findOne({ uploadId: id });
  const kvEntry = (id: string) => t.connection.collection<TusUpload>('tus_uploads').findOne({ uploadId: id });

  it('OPTIONS advertises the version, extensions, max size and checksum algorithms, without a token', async () => {
    const res = await request(t.url).options('/api/tus').expect(204);
    expect(res.headers['tus-version']).toBe('1.0.0');
    expect(res.headers['tus-extension']?.split(',')).toEqual(
      expect.arrayContaining([
        'creation',
        'creation-with-upload',
        'creation-defer-length',
        'termination',
        'expiration',
        'checksum',
        'concatenation',
      ]),
    );
    expect(res.headers['tus-extension']).not.toContain('concatenation-unfinished');
    expect(res.headers['tus-max-size']).toBe('5000000');
    expect(res.headers['tus-checksum-algorithm']).toBe('sha1,sha256');
  });

  it('answers a browser preflight from an allowed origin and exposes the tus headers', async () => {
    const preflight = await request(t.url)
      .options('/api/tus/abcdefghijklmnop')
      .set({
        Origin: 'https://app.example',
        'Access-Control-Request-Method': 'PATCH',
        'Access-Control-Request-Headers': 'authorization,tus-resumable,upload-offset,content-type',
      })
      .expect(204);
    expect(preflight.headers['access-control-allow-origin']).toBe('https://app.example');
    expect(preflight.headers['access-control-allow-methods']).toContain('PATCH');
    expect(preflight.headers['access-control-allow-headers']).toMatch(/Authorization/i);
    expect(preflight.headers['access-control-allow-headers']).toMatch(/Upload-Offset/i);

    const created = await request(t.url)
      .post('/api/tus')
      .set({ ...alice.auth, ...TUS, Origin: 'https://app.example', 'Upload-Length': '10' })
      .expect(201);
    expect(created.headers['access-control-allow-origin']).toBe('https://app.example');
    const exposed = String(created.headers['access-control-expose-headers']);
    for (const header of ['Location', 'Upload-Offset', 'Upload-Expires', 'Tus-Resumable', 'X-Request-Id']) {
      expect(exposed).toContain(header);
    }

    const other = await request(t.url)
      .options('/api/tus')
      .set({ Origin: 'https://evil.example', 'Access-Control-Request-Method': 'POST' });
    expect(other.headers['access-control-allow-origin']).not.toBe('https://evil.example');
  });

  it('creates an upload, resumes with HEAD, appends with PATCH and stores the media on the last PATCH', async () => {
    const id = await createTusUpload(t.url, alice.auth, mp4.length, {
      filename: 'holiday.mp4',
      filetype: 'video/mp4',
      fileType: 'video',
      title: 'Holiday',
      description: 'Beach',
    });
    expect(id).toMatch(/^[A-Za-z0-9_-]{8,64}$/);
    const created = await record(id);
    expect(created).toMatchObject({
      source: 'tus',
      status: 'uploading',
      expectedSize: mp4.length,
      title: 'Holiday',
    });
    expect(created?.expiresAt).toBeInstanceOf(Date);

    const half = Math.floor(mp4.length / 2);
    const first = await patch(id, 0, mp4.subarray(0, half)).expect(204);
    expect(first.headers['upload-offset']).toBe(String(half));
    // Upload-Expires slides with activity, and says what the sweeper will act on (MediaUpload.expiresAt).
    const expires = Date.parse(String(first.headers['upload-expires']));
    const touched = (await record(id))?.expiresAt as Date;
    expect(Math.abs(expires - touched.getTime())).toBeLessThan(2000);
    expect(touched.getTime()).toBeGreaterThanOrEqual((created?.expiresAt as Date).getTime());

    const resumed = await head(id).expect(200);
    expect(resumed.headers['upload-offset']).toBe(String(half));
    expect(resumed.headers['upload-length']).toBe(String(mp4.length));
    expect(resumed.headers['cache-control']).toBe('no-store');

    await patch(id, 0, mp4.subarray(half)).expect(409); // wrong offset: nothing changes
    expect((await head(id).expect(200)).headers['upload-offset']).toBe(String(half));

    const last = await patch(id, half, mp4.subarray(half)).expect(204);
    expect(last.headers['upload-offset']).toBe(String(mp4.length));

    const done = await record(id);
    expect(done).toMatchObject({
      status: 'completed',
      fileSize: mp4.length,
      mimeType: 'video/mp4',
      storageKey: `media/${alice.id}/${id}.mp4`,
      checksumSha256: await sha256File(mp4Path),
      originalName: 'holiday.mp4',
    });
    expect(await storedSha256(t, `media/${alice.id}/${id}.mp4`)).toBe(await sha256File(mp4Path));
    expect(await storedNames(t, 'tus')).not.toContain(id);
    expect(await kvEntry(id)).toMatchObject({ size: mp4.length }); // kept for HEAD while the media exist
    const progress = await request(t.url).get(`/api/upload/progress/${id}`).set(alice.auth).expect(200);
    expect(progress.body).toMatchObject({ status: 'completed', percentComplete: 100, source: 'tus' });
    expect((await head(id).expect(200)).headers['upload-offset']).toBe(String(mp4.length));
  });

  it('ignores X-Forwarded-Host for Location unless TRUST_PROXY is set (Location stays relative)', async () => {
    const res = await request(t.url)
      .post('/api/tus')
      .set({ ...alice.auth, ...TUS, 'Upload-Length': '10', 'X-Forwarded-Host': 'evil.example' })
      .expect(201);
    expect(res.headers.location).toMatch(/^\/api\/tus\/[A-Za-z0-9_-]{22}$/);
  });

  it('creation-with-upload stores the first bytes with the POST, and the whole file when they are all of it', async () => {
    const partial = await request(t.url)
      .post('/api/tus')
      .set({ ...alice.auth, ...TUS, ...OCTETS, 'Upload-Length': String(mp4.length) })
      .send(mp4.subarray(0, 1000))
      .expect(201);
    expect(partial.headers['upload-offset']).toBe('1000');
    expect(partial.headers['upload-expires']).toBeDefined();

    const whole = await request(t.url)
      .post('/api/tus')
      .set({ ...alice.auth, ...TUS, ...OCTETS, 'Upload-Length': String(mp4.length) })
      .send(mp4)
      .expect(201);
    const id = String(whole.headers.location).split('/').pop() as string;
    expect(whole.headers['upload-offset']).toBe(String(mp4.length));
    expect(await record(id)).toMatchObject({ status: 'completed', fileSize: mp4.length });
  });

  it('creation-defer-length takes the length on a later PATCH', async () => {
    const res = await request(t.url)
      .post('/api/tus')
      .set({ ...alice.auth, ...TUS, 'Upload-Defer-Length': '1' })
      .expect(201);
    const id = String(res.headers.location).split('/').pop() as string;
    expect(await record(id)).toMatchObject({ expectedSize: null });
    expect((await head(id).expect(200)).headers['upload-defer-length']).toBe('1');

    await patch(id, 0, mp4.subarray(0, 2000)).expect(204);
    await request(t.url)
      .patch(`/api/tus/${id}`)
      .set({ ...alice.auth, ...TUS, ...OCTETS, 'Upload-Offset': '2000', 'Upload-Length': String(mp4.length) })
      .send(mp4.subarray(2000))
      .expect(204);
    expect(await record(id)).toMatchObject({
      status: 'completed',
      fileSize: mp4.length,
      expectedSize: mp4.length,
    });
  });

  it('verifies Upload-Checksum (sha1, sha256): a mismatch answers 460 and leaves the offset unchanged', async () => {
    const id = await createTusUpload(t.url, alice.auth, mp4.length);
    const chunk = mp4.subarray(0, 3000);
    const digest = (algorithm: string, data: Buffer) => createHash(algorithm).update(data).digest('base64');

    const bad = await patch(id, 0, chunk)
      .set('Upload-Checksum', `sha256 ${digest('sha256', Buffer.from('other bytes'))}`)
      .expect(460);
    expect(bad.body).toMatchObject({ success: false, statusCode: 460, error: 'CHECKSUM_MISMATCH' });
    expect((await head(id).expect(200)).headers['upload-offset']).toBe('0');
    expect((await assemblyOf(t, tusDataKey(id)).length()) ?? 0).toBe(0);

    await patch(id, 0, chunk)
      .set('Upload-Checksum', `sha1 ${digest('sha1', chunk)}`)
      .expect(204);
    await patch(id, 3000, mp4.subarray(3000))
      .set('Upload-Checksum', `sha256 ${digest('sha256', mp4.subarray(3000))}`)
      .expect(204);
    expect(await record(id)).toMatchObject({
      status: 'completed',
      checksumSha256: await sha256File(mp4Path),
    });

    const other = await createTusUpload(t.url, alice.auth, 10);
    const unsupported = await patch(other, 0, Buffer.alloc(10))
      .set('Upload-Checksum', 'md5 AAAA')
      .expect(400);
    expect(unsupported.body.message).toMatch(/sha1, sha256/);
    expect((await head(other).expect(200)).headers['upload-offset']).toBe('0');
  });

  it('termination (DELETE) deletes the bytes and ends the upload as cancelled', async () => {
    const id = await createTusUpload(t.url, alice.auth, mp4.length);
    await patch(id, 0, mp4.subarray(0, 500)).expect(204);
    await request(t.url)
      .delete(`/api/tus/${id}`)
      .set({ ...alice.auth, ...TUS })
      .expect(204);

    expect(await record(id)).toMatchObject({ status: 'cancelled' });
    expect(await storedNames(t, 'tus')).not.toContain(id);
    expect(await kvEntry(id)).toBeNull();
    const progress = await request(t.url).get(`/api/upload/progress/${id}`).set(alice.auth).expect(200);
    expect(progress.body.status).toBe('cancelled');
    await head(id).expect(410);
    await patch(id, 500, mp4.subarray(500, 600)).expect(410);
  });

  it.each([
    ['an unknown fileType', { fileType: 'document' }, 'fileType'],
    ['a malformed chatId', { chatId: 'not-an-id' }, 'chatId'],
    ['a title over 200 characters', { title: 'x'.repeat(201) }, 'title'],
    ['a malformed filetype', { filetype: 'not a mime' }, 'filetype'],
  ])(
    'rejects creation with %s (400 with the JSON error body), creating nothing',
    async (_name, meta, field) => {
      const before = await storedNames(t, 'tus');
      const res = await request(t.url)
        .post('/api/tus')
        .set({ ...alice.auth, ...TUS, 'Upload-Length': '100', 'Upload-Metadata': tusMetadata(meta) })
        .expect(400);
      expect(res.headers['content-type']).toMatch(/application\/json/);
      expect(res.body).toMatchObject({ success: false, statusCode: 400, error: 'VALIDATION_FAILED' });
      expect(res.body.errors).toHaveProperty(field);
      expect(typeof res.body.requestId).toBe('string');
      expect(res.headers.location).toBeUndefined();
      expect(await storedNames(t, 'tus')).toEqual(before);
    },
  );

  it('rejects an Upload-Length over MAX_RESUMABLE_BYTES with 413 before anything is created', async () => {
    const before = await storedNames(t, 'tus');
    const count = await t.connection.collection('media_uploads').countDocuments();
    const res = await request(t.url)
      .post('/api/tus')
      .set({ ...alice.auth, ...TUS, ...OCTETS, 'Upload-Length': '5000001' })
      .send(Buffer.alloc(1000))
      .expect(413);
    expect(res.body).toMatchObject({ statusCode: 413, error: 'PAYLOAD_TOO_LARGE' });
    expect(await storedNames(t, 'tus')).toEqual(before);
    expect(await t.connection.collection('media_uploads').countDocuments()).toBe(count);
  });

  it('answers 415 to the last PATCH when the content is not allowed media, and deletes the bytes', async () => {
    const text = Buffer.from('MZ this is not a video at all, just some text bytes '.repeat(100));
    const id = await createTusUpload(t.url, alice.auth, text.length);
    const res = await patch(id, 0, text).expect(415);
    expect(res.body).toMatchObject({ success: false, error: 'UNSUPPORTED_MEDIA_TYPE' });
    expect(await record(id)).toMatchObject({ status: 'failed' });
    expect(await storedNames(t, 'tus')).not.toContain(id);
    expect(await kvEntry(id)).toBeNull();
    expect(await storedNames(t, `media/${alice.id}`)).not.toContain(`${id}.mp4`);
    const progress = await request(t.url).get(`/api/upload/progress/${id}`).set(alice.auth).expect(200);
    expect(progress.body.status).toBe('failed');
  });

  it('answers 415 when a photo is uploaded as fileType video', async () => {
    const jpeg = await readFile((await mediaFixtures()).jpeg);
    const id = await createTusUpload(t.url, alice.auth, jpeg.length, { fileType: 'video' });
    await patch(id, 0, jpeg).expect(415);
    const photo = await createTusUpload(t.url, alice.auth, jpeg.length, { fileType: 'photo' });
    await patch(photo, 0, jpeg).expect(204);
    expect(await record(photo)).toMatchObject({ status: 'completed', mimeType: 'image/jpeg' });
  });

  it('hides an upload from every other user: 404 on HEAD, PATCH and DELETE, and nothing changes', async () => {
    const id = await createTusUpload(t.url, alice.auth, mp4.length);
    await patch(id, 0, mp4.subarray(0, 100)).expect(204);

    const missing = await head('AAAAAAAAAAAAAAAAAAAAAA', bob).expect(404);
    const foreign = await head(id, bob).expect(404);
    expect(foreign.status).toBe(missing.status);
    const patched = await patch(id, 100, mp4.subarray(100, 200), bob).expect(404);
    expect(patched.body).toMatchObject({ error: 'NOT_FOUND' });
    await request(t.url)
      .delete(`/api/tus/${id}`)
      .set({ ...bob.auth, ...TUS })
      .expect(404);

    expect((await head(id).expect(200)).headers['upload-offset']).toBe('100');
    expect(await record(id)).toMatchObject({ status: 'uploading' });
  });

  it('requires a bearer token on POST, HEAD and PATCH (401)', async () => {
    const id = await createTusUpload(t.url, alice.auth, 100);
    const post = await request(t.url)
      .post('/api/tus')
      .set({ ...TUS, 'Upload-Length': '10' })
      .expect(401);
    expect(post.body).toMatchObject({ success: false, error: 'TOKEN_MISSING' });
    await request(t.url).head(`/api/tus/${id}`).set(TUS).expect(401);
    await request(t.url)
      .patch(`/api/tus/${id}`)
      .set({ ...TUS, ...OCTETS, 'Upload-Offset': '0' })
      .send(Buffer.alloc(10))
      .expect(401);
    await request(t.url).delete(`/api/tus/${id}`).set(TUS).expect(401);
    expect((await head(id).expect(200)).headers['upload-offset']).toBe('0');
  });

  it('answers 404 for malformed upload ids and extra path segments', async () => {
    await head('..%2f..%2fetc').expect(404);
    await head('short').expect(404);
    await request(t.url)
      .head('/api/tus/abcdefghijkl/extra')
      .set({ ...alice.auth, ...TUS })
      .expect(404);
  });
});
