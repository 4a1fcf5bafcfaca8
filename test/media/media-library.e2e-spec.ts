import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import request from 'supertest';
import { HmacSigner } from '../../src/common/crypto/hmac-signer.service';
import { mediaFixtures } from '../support/fixtures';
import { createTestApp, TestApp } from '../support/test-app';
import { registerUser, TestUser } from '../support/users';
import { FilePart, Part, startUpload, upload } from './support/multipart-upload';
import { mediaFiles, mediaRecord, progressRecord, tmpFiles, waitFor } from './support/stored-state';

const CHAT = '507f1f77bcf86cd799439011';
/** A web app on another site, listed in CORS_ORIGINS. */
const APP_ORIGIN = 'https://app.example.com';

const ids = (body: { items: { uploadId: string }[] }) => body.items.map((item) => item.uploadId);

/** supertest parser that keeps binary bodies as Buffers. */
function binary(res: request.Response, callback: (error: Error | null, body: Buffer) => void) {
  const stream = res as unknown as NodeJS.ReadableStream;
  const chunks: Buffer[] = [];
  stream.on('data', (chunk: Buffer) => chunks.push(chunk));
  stream.on('end', () => callback(null, Buffer.concat(chunks)));
}

describe('Media library', () => {
  let t: TestApp;
  let alice: TestUser;
  let bob: TestUser;
  let mp4: Buffer;
  let jpeg: Buffer;
  let videoId: string;

  const file = (data: Buffer, filename: string): FilePart => ({ name: 'file', filename, data });
  const send = async (user: TestUser, parts: Part[], id?: string) => {
    const res = await upload(t.url, {
      parts,
      headers: { ...user.auth, ...(id ? { 'X-Upload-Id': id } : {}) },
    });
    expect(res.status).toBe(201);
    return res.body.uploadId as string;
  };
  const content = (id: string) => request(t.url).get(`/api/media/${id}/content`).buffer(true).parse(binary);

  beforeAll(async () => {
    t = await createTestApp({ env: { PROGRESS_PERSIST_MS: '100', CORS_ORIGINS: APP_ORIGIN } });
    alice = await registerUser(t.url, 'alice');
    bob = await registerUser(t.url, 'bob');
    const fixtures = await mediaFixtures();
    mp4 = await readFile(fixtures.mp4);
    jpeg = await readFile(fixtures.jpeg);
    videoId = await send(
      alice,
      [{ name: 'fileType', value: 'video' }, { name: 'chatId', value: CHAT }, file(mp4, 'Declaração.mp4')],
      'alice-video-1',
    );
    await send(alice, [{ name: 'fileType', value: 'photo' }, file(jpeg, 'a.jpg')], 'alice-photo-1');
    await send(alice, [{ name: 'fileType', value: 'camera' }, file(jpeg, 'b.jpg')], 'alice-photo-2');
    await send(bob, [{ name: 'fileType', value: 'photo' }, file(jpeg, 'bob.jpg')], 'bob-photo-1');
  });
  afterAll(async () => {
    expect(await tmpFiles(t)).toEqual([]);
    await t.close();
  });

  describe('GET /api/media', () => {
    it("lists only the caller's uploads, newest first", async () => {
      const res = await request(t.url).get('/api/media').set(alice.auth).expect(200);
      expect(ids(res.body)).toEqual(['alice-photo-2', 'alice-photo-1', 'alice-video-1']);
      expect(res.body.nextCursor).toBeNull();
      expect(res.body.items[2]).toMatchObject({
        fileType: 'video',
        mimeType: 'video/mp4',
        chatId: CHAT,
        originalName: 'Declaração.mp4',
        fileUrl: '/api/media/alice-video-1/content',
        status: 'completed',
      });
      expect(res.body.items[2]).not.toHaveProperty('storageKey');
      expect(res.body.items[2]).not.toHaveProperty('userId');
    });

    it('pages with a cursor', async () => {
      const first = await request(t.url).get('/api/media?limit=2').set(alice.auth).expect(200);
      expect(first.body.items).toHaveLength(2);
      const second = await request(t.url)
        .get('/api/media')
        .query({ limit: 2, cursor: first.body.nextCursor })
        .set(alice.auth)
        .expect(200);
      expect(ids(second.body)).toEqual(['alice-video-1']);
      expect(second.body.nextCursor).toBeNull();
    });

    it.each([
      ['fileType=photo', ['alice-photo-1']],
      ['fileType=video', ['alice-video-1']],
      [`chatId=${CHAT}`, ['alice-video-1']],
      ['status=completed', ['alice-photo-2', 'alice-photo-1', 'alice-video-1']],
      ['status=failed', []],
    ])('filters by %s', async (query, expected) => {
      const res = await request(t.url).get(`/api/media?${query}`).set(alice.auth).expect(200);
      expect(ids(res.body)).toEqual(expected);
    });

    it.each([
      'limit=0',
      'limit=101',
      'limit=abc',
      'fileType=doc',
      'status=done',
      'chatId=x',
      'sort=asc',
      'cursor=%%%',
    ])('rejects %s with 400', async (query) => {
      const res = await request(t.url).get(`/api/media?${query}`).set(alice.auth);
      expect(res.status).toBe(400);
      expect(res.body.success).toBe(false);
    });
  });

  it('GET /api/media/:id returns the record', async () => {
    const res = await request(t.url).get(`/api/media/${videoId}`).set(alice.auth).expect(200);
    expect(res.body).toMatchObject({
      success: true,
      media: {
        uploadId: videoId,
        fileSize: mp4.length,
        checksumSha256: createHash('sha256').update(mp4).digest('hex'),
      },
    });
  });

  describe('GET /api/media/:id/content', () => {
    it('streams the exact bytes with type, validator and safe headers', async () => {
      const res = await content(videoId).set(alice.auth).expect(200);
      expect((res.body as Buffer).equals(mp4)).toBe(true);
      expect(res.headers['content-type']).toBe('video/mp4');
      expect(res.headers['content-length']).toBe(String(mp4.length));
      expect(res.headers['accept-ranges']).toBe('bytes');
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      expect(res.headers.etag).toBe(`"${createHash('sha256').update(mp4).digest('hex')}"`);
      expect(res.headers['content-disposition']).toBe(
        `inline; filename="Declaracao.mp4"; filename*=UTF-8''Declara%C3%A7%C3%A3o.mp4`,
      );
    });

    it.each<[string, number, number]>([
      ['bytes=0-99', 0, 99],
      ['bytes=100-', 100, -1],
      ['bytes=-250', -250, -1],
      ['bytes=1000-1000', 1000, 1000],
    ])('answers %s with 206 and exactly those bytes', async (range, start, end) => {
      const res = await content(videoId).set(alice.auth).set('Range', range).expect(206);
      const from = start < 0 ? mp4.length + start : start;
      const to = end < 0 ? mp4.length - 1 : end;
      expect((res.body as Buffer).equals(mp4.subarray(from, to + 1))).toBe(true);
      expect(res.headers['content-range']).toBe(`bytes ${from}-${to}/${mp4.length}`);
      expect(res.headers['content-length']).toBe(String(to - from + 1));
    });

    it('answers an unsatisfiable range with 416 and the size', async () => {
      const res = await request(t.url)
        .get(`/api/media/${videoId}/content`)
        .set(alice.auth)
        .set('Range', `bytes=${mp4.length + 10}-`);
      expect(res.status).toBe(416);
      expect(res.headers['content-range']).toBe(`bytes */${mp4.length}`);
      expect(res.body.error).toBe('RANGE_NOT_SATISFIABLE');
    });

    it('sends the whole file for several ranges or a stale If-Range', async () => {
      const many = await content(videoId).set(alice.auth).set('Range', 'bytes=0-9,500-509').expect(200);
      expect((many.body as Buffer).equals(mp4)).toBe(true);
      const stale = await content(videoId).set(alice.auth).set('Range', 'bytes=0-9').set('If-Range', '"old"');
      expect(stale.status).toBe(200);
    });

    it('answers 304 to a matching If-None-Match', async () => {
      const first = await content(videoId).set(alice.auth).expect(200);
      const res = await request(t.url)
        .get(`/api/media/${videoId}/content`)
        .set(alice.auth)
        .set('If-None-Match', `W/"nope", ${first.headers.etag}`);
      expect(res.status).toBe(304);
      expect(res.headers.etag).toBe(first.headers.etag);
    });

    it('needs a token or a signed link', async () => {
      const res = await request(t.url).get(`/api/media/${videoId}/content`);
      expect(res.status).toBe(401);
    });
  });

  describe('signed links', () => {
    it('work without an Authorization header until they expire', async () => {
      const signed = await request(t.url)
        .post(`/api/media/${videoId}/signed-url`)
        .set(alice.auth)
        .expect(201);
      expect(signed.body).toMatchObject({
        success: true,
        url: expect.stringContaining(`/api/media/${videoId}/content?`),
      });
      expect(new Date(signed.body.expiresAt).getTime()).toBeGreaterThan(Date.now() + 800_000);
      const res = await request(t.url)
        .get(signed.body.url)
        .buffer(true)
        .parse(binary)
        .set('Range', 'bytes=0-15');
      expect(res.status).toBe(206);
      expect((res.body as Buffer).equals(mp4.subarray(0, 16))).toBe(true);
    });

    it('are embeddable on other sites (CORP cross-origin), readable by listed origins (CORS), still cached privately', async () => {
      const signed = await request(t.url)
        .post(`/api/media/${videoId}/signed-url`)
        .set(alice.auth)
        .expect(201);
      const get = (origin: string, headers: Record<string, string> = {}) =>
        request(t.url)
          .get(signed.body.url)
          .set({ Origin: origin, ...headers })
          .buffer(true)
          .parse(binary);

      const listed = await get(APP_ORIGIN, { Range: 'bytes=0-15' });
      expect(listed.status).toBe(206);
      expect(listed.headers).toMatchObject({
        'cross-origin-resource-policy': 'cross-origin',
        'access-control-allow-origin': APP_ORIGIN,
        'cache-control': 'private, no-cache',
      });
      expect(listed.headers['access-control-expose-headers']).toMatch(/Content-Range/);
      // Any site may show it in <img>/<video>; only listed origins may read the bytes from script or canvas.
      const other = await get('https://elsewhere.example');
      expect(other.status).toBe(200);
      expect(other.headers['cross-origin-resource-policy']).toBe('cross-origin');
      expect(other.headers['access-control-allow-origin']).toBeUndefined();
      const revalidated = await get(APP_ORIGIN, { 'If-None-Match': String(listed.headers.etag) });
      expect(revalidated.status).toBe(304);
      expect(revalidated.headers['cross-origin-resource-policy']).toBe('cross-origin');
      // The rest of the API keeps helmet's same-site policy.
      const listing = await request(t.url).get('/api/media').set(alice.auth);
      expect(listing.headers['cross-origin-resource-policy']).toBe('same-site');
    });

    it.each([
      [
        'a changed signature',
        (url: URL) => {
          // The first character: it carries six whole bits (the last may only carry padding bits).
          const signature = url.searchParams.get('signature')!;
          url.searchParams.set('signature', `${signature[0] === 'A' ? 'B' : 'A'}${signature.slice(1)}`);
        },
      ],
      [
        'a later expiry',
        (url: URL) => url.searchParams.set('expires', String(Number(url.searchParams.get('expires')) + 3600)),
      ],
      ['another user id', (url: URL) => url.searchParams.set('uid', bob.id)],
      ['another file', (url: URL) => (url.pathname = '/api/media/alice-photo-1/content')],
      ['a missing signature', (url: URL) => url.searchParams.delete('signature')],
    ])('are refused with 403 when tampered with: %s', async (_label, tamper) => {
      const signed = await request(t.url)
        .post(`/api/media/${videoId}/signed-url`)
        .set(alice.auth)
        .expect(201);
      const url = new URL(signed.body.url as string, t.url);
      tamper(url);
      const res = await request(t.url).get(`${url.pathname}${url.search}`);
      expect(res.status).toBe(403);
      expect(res.body).toMatchObject({ success: false, error: 'SIGNATURE_INVALID' });
    });

    it('are refused with 403 once expired', async () => {
      const expires = String(Math.floor(Date.now() / 1000) - 5);
      const signature = t.app.get(HmacSigner).sign('media-content', videoId, alice.id, expires);
      const res = await request(t.url)
        .get(`/api/media/${videoId}/content`)
        .query({ expires, uid: alice.id, signature });
      expect(res.status).toBe(403);
      expect(res.body.error).toBe('SIGNATURE_EXPIRED');
    });
  });

  describe("another user's upload behaves exactly like a missing one", () => {
    const routes: [string, (id: string) => request.Test][] = [
      ['GET /api/media/:id', (id) => request(t.url).get(`/api/media/${id}`)],
      ['GET /api/media/:id/content', (id) => request(t.url).get(`/api/media/${id}/content`)],
      ['POST /api/media/:id/signed-url', (id) => request(t.url).post(`/api/media/${id}/signed-url`)],
      ['DELETE /api/media/:id', (id) => request(t.url).delete(`/api/media/${id}`)],
      ['GET /api/upload/progress/:id', (id) => request(t.url).get(`/api/upload/progress/${id}`)],
      [
        'POST /api/upload/progress/:id/events/ticket',
        (id) => request(t.url).post(`/api/upload/progress/${id}/events/ticket`),
      ],
      [
        'GET /api/upload/progress/:id/events',
        (id) => request(t.url).get(`/api/upload/progress/${id}/events`),
      ],
      ['POST /api/upload/cancel/:id', (id) => request(t.url).post(`/api/upload/cancel/${id}`)],
    ];

    it.each(routes)('%s answers 404', async (_route, call) => {
      const theirs = await call('alice-photo-1').set(bob.auth);
      const missing = await call('no-such-upload').set(bob.auth);
      expect(theirs.status).toBe(404);
      expect(missing.status).toBe(404);
      expect({ ...theirs.body, requestId: '' }).toEqual({ ...missing.body, requestId: '' });
    });

    it('and nothing of it changed', async () => {
      expect(await mediaRecord(t, 'alice-photo-1')).toMatchObject({ status: 'completed' });
      expect(await mediaFiles(t, alice.id)).toContain('alice-photo-1.jpg');
    });

    it("a signed link of bob's cannot open alice's file", async () => {
      const signed = await request(t.url).post('/api/media/bob-photo-1/signed-url').set(bob.auth).expect(201);
      const url = new URL(signed.body.url as string, t.url);
      const query = url.searchParams;
      const signature = t.app
        .get(HmacSigner)
        .sign('media-content', 'alice-photo-1', bob.id, query.get('expires')!);
      const res = await request(t.url)
        .get('/api/media/alice-photo-1/content')
        .query({ expires: query.get('expires'), uid: bob.id, signature });
      expect(res.status).toBe(404);
    });
  });

  describe('DELETE /api/media/:id', () => {
    it('removes the file, the progress record and the record', async () => {
      const res = await request(t.url).delete('/api/media/alice-photo-2').set(alice.auth).expect(200);
      expect(res.body).toEqual({ success: true, message: 'Media deleted', uploadId: 'alice-photo-2' });
      expect(await mediaFiles(t, alice.id)).not.toContain('alice-photo-2.jpg');
      expect(await mediaRecord(t, 'alice-photo-2')).toBeNull();
      expect(await progressRecord(t, 'alice-photo-2')).toBeNull();
      await request(t.url).get('/api/media/alice-photo-2').set(alice.auth).expect(404);
      await request(t.url).get('/api/media/alice-photo-2/content').set(alice.auth).expect(404);
      await request(t.url).delete('/api/media/alice-photo-2').set(alice.auth).expect(404);
    });

    it('refuses an upload still in flight with 409 (cancel it first), then deletes it once cancelled', async () => {
      const running = startUpload(t.url, {
        parts: [{ name: 'fileType', value: 'video' }, file(mp4, 'c.mp4')],
        headers: { ...alice.auth, 'X-Upload-Id': 'in-flight-0001' },
        // Less than the sniffer needs: the server is still reading the head when the cancel comes.
        pauseAt: 2048,
      });
      await running.paused;
      await waitFor(() => mediaRecord(t, 'in-flight-0001'), 'the upload to start');
      const res = await request(t.url).delete('/api/media/in-flight-0001').set(alice.auth);
      expect(res.status).toBe(409);
      expect(res.body.error).toBe('UPLOAD_IN_PROGRESS');
      const during = await request(t.url).get('/api/media/in-flight-0001/content').set(alice.auth);
      expect(during.status).toBe(409);
      expect(during.body.error).toBe('MEDIA_NOT_READY');
      await request(t.url).post('/api/upload/cancel/in-flight-0001').set(alice.auth).expect(200);
      const result = await running.result;
      expect(result.error ?? result.status).toBe(409);
      expect(await mediaRecord(t, 'in-flight-0001')).toMatchObject({ status: 'cancelled' });
      await request(t.url).delete('/api/media/in-flight-0001').set(alice.auth).expect(200);
      expect(await mediaRecord(t, 'in-flight-0001')).toBeNull();
      expect(await progressRecord(t, 'in-flight-0001')).toBeNull();
    });
  });

  it('documents the routes in the OpenAPI spec', async () => {
    const spec = (await request(t.url).get('/api/docs-json').expect(200)).body;
    const upload = spec.paths['/api/upload/media'].post;
    expect(upload.operationId).toBe('uploadMedia');
    expect(Object.keys(upload.requestBody.content)).toEqual(['multipart/form-data']);
    expect(Object.keys(upload.responses)).toEqual(
      expect.arrayContaining(['201', '400', '409', '413', '415', '422', '507']),
    );
    expect(Object.keys(spec.paths)).toEqual(
      expect.arrayContaining([
        '/api/media',
        '/api/media/{id}',
        '/api/media/{id}/content',
        '/api/media/{id}/signed-url',
      ]),
    );
  });
});
