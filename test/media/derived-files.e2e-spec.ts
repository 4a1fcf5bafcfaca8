import { readFile } from 'node:fs/promises';
import sharp from 'sharp';
import request from 'supertest';
import { MediaRecordsService } from '../../src/media';
import { derivedPrefix } from '../../src/storage';
import { mediaFixtures } from '../support/fixtures';
import { storedKeys } from '../support/stored-objects';
import { createTestApp, TestApp } from '../support/test-app';
import { registerUser, TestUser } from '../support/users';
import { upload } from './support/multipart-upload';
import { waitFor } from './support/stored-state';

/** supertest parser that keeps binary bodies as Buffers. */
function binary(res: request.Response, callback: (error: Error | null, body: Buffer) => void) {
  const stream = res as unknown as NodeJS.ReadableStream;
  const chunks: Buffer[] = [];
  stream.on('data', (chunk: Buffer) => chunks.push(chunk));
  stream.on('end', () => callback(null, Buffer.concat(chunks)));
}

const IMMUTABLE = 'private, max-age=31536000, immutable';

describe('Derived files (thumbnails, poster, rendition)', () => {
  let t: TestApp;
  let alice: TestUser;
  let bob: TestUser;
  let mp4: Buffer;

  const send = async (user: TestUser, fileType: string, data: Buffer, filename: string, id: string) => {
    const res = await upload(t.url, {
      parts: [
        { name: 'fileType', value: fileType },
        { name: 'file', filename, data },
      ],
      headers: { ...user.auth, 'X-Upload-Id': id },
    });
    expect(res.status).toBe(201);
    return id;
  };
  const view = async (user: TestUser, id: string) =>
    (await request(t.url).get(`/api/media/${id}`).set(user.auth).expect(200)).body.media;
  /** Polls the record as a client would, until its processing has settled. */
  const processed = (user: TestUser, id: string) =>
    waitFor(
      async () => {
        const media = await view(user, id);
        return ['done', 'failed'].includes(media.processing?.status) ? media : undefined;
      },
      `processing of ${id}`,
      60_000,
    );
  const get = (path: string) => request(t.url).get(path).buffer(true).parse(binary);

  beforeAll(async () => {
    t = await createTestApp();
    alice = await registerUser(t.url, 'alice');
    bob = await registerUser(t.url, 'bob');
    const fixtures = await mediaFixtures();
    mp4 = await readFile(fixtures.mp4);
    const jpeg = await readFile(fixtures.jpeg);
    await send(alice, 'video', mp4, 'Clip.mp4', 'alice-video-1');
    await send(alice, 'photo', jpeg, 'Still.jpg', 'alice-photo-1');
    await send(bob, 'photo', jpeg, 'bob.jpg', 'bob-photo-1');
    await Promise.all([
      processed(alice, 'alice-video-1'),
      processed(alice, 'alice-photo-1'),
      processed(bob, 'bob-photo-1'),
    ]);
  }, 120_000);
  afterAll(async () => {
    await t?.close();
  });

  it('GET /api/media/:id shows metadata, processing and the links of the files that exist', async () => {
    const video = await view(alice, 'alice-video-1');
    expect(video).toMatchObject({
      processing: { status: 'done' },
      thumbnailUrl: '/api/media/alice-video-1/thumbnail',
      previewUrl: '/api/media/alice-video-1/thumbnail?size=preview',
      posterUrl: '/api/media/alice-video-1/poster',
      renditionUrl: '/api/media/alice-video-1/rendition',
      fileUrl: '/api/media/alice-video-1/content',
      metadata: expect.objectContaining({ width: 160, height: 120 }),
    });
    expect(video.metadata.duration).toBeCloseTo(1, 0);
    expect(video).not.toHaveProperty('derived');
    const photo = await view(alice, 'alice-photo-1');
    expect(photo).toMatchObject({
      processing: { status: 'done' },
      thumbnailUrl: '/api/media/alice-photo-1/thumbnail',
      posterUrl: null,
      metadata: expect.objectContaining({ width: 64, height: 64, duration: null }),
    });
    const list = await request(t.url).get('/api/media').set(alice.auth).expect(200);
    const items = list.body.items as { thumbnailUrl: string }[];
    expect(items.map((item) => item.thumbnailUrl)).toEqual([
      '/api/media/alice-photo-1/thumbnail',
      '/api/media/alice-video-1/thumbnail',
    ]);
  });

  it.each([
    { size: 'small', query: '', max: 250 },
    { size: 'preview', query: '?size=preview', max: 1440 },
  ])(
    'GET /api/media/:id/thumbnail ($size) serves a WebP within $max px, cacheable for a year',
    async ({ query, max }) => {
      for (const id of ['alice-video-1', 'alice-photo-1']) {
        const res = await get(`/api/media/${id}/thumbnail${query}`).set(alice.auth);
        expect(res.status).toBe(200);
        expect(res.headers['content-type']).toBe('image/webp');
        expect(res.headers['cache-control']).toBe(IMMUTABLE);
        const image = await sharp(res.body as Buffer).metadata();
        expect(image.format).toBe('webp');
        expect(Math.max(image.width, image.height)).toBeLessThanOrEqual(max);
        expect(image.width).toBeGreaterThan(0);
      }
    },
  );

  it('GET /api/media/:id/thumbnail rejects an unknown size with 400', async () => {
    const res = await request(t.url).get('/api/media/alice-photo-1/thumbnail?size=huge').set(alice.auth);
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('VALIDATION_FAILED');
  });

  it("GET /api/media/:id/poster serves a video's JPEG frame; a photo has none (404)", async () => {
    const poster = await get('/api/media/alice-video-1/poster').set(alice.auth);
    expect(poster.status).toBe(200);
    expect(poster.headers['content-type']).toBe('image/jpeg');
    expect(poster.headers['cache-control']).toBe(IMMUTABLE);
    expect(await sharp(poster.body as Buffer).metadata()).toMatchObject({
      format: 'jpeg',
      width: 160,
      height: 120,
    });
    const none = await request(t.url).get('/api/media/alice-photo-1/poster').set(alice.auth);
    expect(none.status).toBe(404);
    expect(none.body.error).toBe('NOT_FOUND');
  });

  it('answers 304 to If-None-Match with the ETag of the derived file', async () => {
    const first = await get('/api/media/alice-video-1/thumbnail').set(alice.auth).expect(200);
    expect(first.headers.etag).toMatch(/^"[^"]+"$/);
    const again = await request(t.url)
      .get('/api/media/alice-video-1/thumbnail')
      .set(alice.auth)
      .set('If-None-Match', first.headers.etag);
    expect(again.status).toBe(304);
    expect(again.headers['cache-control']).toBe(IMMUTABLE);
  });

  it('GET /api/media/:id/rendition serves a playable video with byte ranges (the original when it needs none)', async () => {
    const whole = await get('/api/media/alice-video-1/rendition').set(alice.auth).expect(200);
    expect(whole.headers['content-type']).toBe('video/mp4');
    expect(whole.headers['cache-control']).toBe('private, no-cache');
    const body = whole.body as Buffer;
    const range = await get('/api/media/alice-video-1/rendition').set(alice.auth).set('Range', 'bytes=0-15');
    expect(range.status).toBe(206);
    expect((range.body as Buffer).equals(body.subarray(0, 16))).toBe(true);
    // A faststart MP4 from a browser's point of view needs no rendition: the original is served as it is.
    expect(body.equals(mp4)).toBe(true);
  });

  it('GET /api/media/:id/rendition serves what a browser can show: a JPEG of a HEIC, an MP4 with its index first', async () => {
    const fixtures = await mediaFixtures();
    const heic = await send(alice, 'photo', await readFile(fixtures.heic), 'IMG_0001.HEIC', 'alice-heic-1');
    const late = await send(
      alice,
      'video',
      await readFile(fixtures.mp4MoovAtEnd),
      'late.mp4',
      'alice-late-1',
    );
    await Promise.all([processed(alice, heic), processed(alice, late)]);

    const jpeg = await get(`/api/media/${heic}/rendition`).set(alice.auth).expect(200);
    expect(jpeg.headers['content-type']).toBe('image/jpeg');
    expect(await sharp(jpeg.body as Buffer).metadata()).toMatchObject({
      format: 'jpeg',
      width: 640,
      height: 480,
    });
    expect(jpeg.headers['content-disposition']).toContain('IMG_0001-rendition.jpg');

    const mp4 = await get(`/api/media/${late}/rendition`).set(alice.auth).expect(200);
    expect(mp4.headers['content-type']).toBe('video/mp4');
    const body = mp4.body as Buffer;
    expect(body.indexOf('moov')).toBeLessThan(body.indexOf('mdat'));
    const original = await get(`/api/media/${late}/content`).set(alice.auth).expect(200);
    expect((original.body as Buffer).indexOf('moov')).toBeGreaterThan(
      (original.body as Buffer).indexOf('mdat'),
    );
  });

  it('a signed link opens the thumbnail, poster and rendition of its media, and not those of another', async () => {
    const signed = await request(t.url)
      .post('/api/media/alice-video-1/signed-url')
      .set(alice.auth)
      .expect(201);
    expect(signed.body).toMatchObject({
      thumbnailUrl: expect.stringMatching(
        /^\/api\/media\/alice-video-1\/thumbnail\?expires=\d+&uid=\w+&signature=/,
      ),
      previewUrl: expect.stringMatching(/^\/api\/media\/alice-video-1\/thumbnail\?size=preview&expires=/),
      posterUrl: expect.stringContaining('/api/media/alice-video-1/poster?expires='),
      renditionUrl: expect.stringContaining('/api/media/alice-video-1/rendition?expires='),
    });
    for (const url of ['thumbnailUrl', 'previewUrl', 'posterUrl', 'renditionUrl']) {
      const res = await get(signed.body[url] as string);
      expect(res.status).toBe(200);
    }
    const query = new URL(signed.body.thumbnailUrl as string, t.url).search;
    const other = await request(t.url).get(`/api/media/alice-photo-1/thumbnail${query}`);
    expect(other.status).toBe(403);
    expect(other.body.error).toBe('SIGNATURE_INVALID');
    const photo = await request(t.url)
      .post('/api/media/alice-photo-1/signed-url')
      .set(alice.auth)
      .expect(201);
    expect(photo.body.posterUrl).toBeNull();
  });

  it("another user's media is 404 on every derived route, and no credentials is 401", async () => {
    for (const path of ['thumbnail', 'thumbnail?size=preview', 'poster', 'rendition']) {
      const res = await request(t.url).get(`/api/media/alice-video-1/${path}`).set(bob.auth);
      expect(res.status).toBe(404);
      expect(res.body.error).toBe('NOT_FOUND');
      expect((await request(t.url).get(`/api/media/alice-video-1/${path}`)).status).toBe(401);
    }
    const own = await get('/api/media/bob-photo-1/thumbnail').set(bob.auth);
    expect(own.status).toBe(200);
  });

  it('answers 409 DERIVED_NOT_READY while processing is pending, with no links in the view', async () => {
    const id = await send(
      alice,
      'photo',
      await sharp({ create: { width: 8, height: 8, channels: 3, background: 'red' } })
        .jpeg()
        .toBuffer(),
      'p.jpg',
      'alice-pending-1',
    );
    await processed(alice, id);
    // As a record looks between completion and its processing (the real runner is too quick to catch there).
    await t.app
      .get(MediaRecordsService)
      .setProcessing(alice.id, id, { status: 'pending', attempts: 0, updatedAt: new Date() }, {});
    const media = await view(alice, id);
    expect(media).toMatchObject({
      processing: { status: 'pending' },
      thumbnailUrl: null,
      previewUrl: null,
      posterUrl: null,
      renditionUrl: null,
    });
    for (const path of ['thumbnail', 'rendition']) {
      const res = await request(t.url).get(`/api/media/${id}/${path}`).set(alice.auth);
      expect(res.status).toBe(409);
      expect(res.body).toMatchObject({ error: 'DERIVED_NOT_READY', processing: 'pending' });
    }
    // A photo never gets a poster: that is 404 whatever the state.
    expect((await request(t.url).get(`/api/media/${id}/poster`).set(alice.auth)).status).toBe(404);
  });

  it('DELETE /api/media/:id removes the derived files with the media', async () => {
    const prefix = `${derivedPrefix(alice.id, 'alice-video-1')}/`;
    expect((await storedKeys(t, prefix)).length).toBeGreaterThanOrEqual(3);
    await request(t.url).delete('/api/media/alice-video-1').set(alice.auth).expect(200);
    expect(await storedKeys(t, prefix)).toEqual([]);
    expect((await request(t.url).get('/api/media/alice-video-1/thumbnail').set(alice.auth)).status).toBe(404);
    // Other media keep theirs.
    expect((await storedKeys(t, `${derivedPrefix(alice.id, 'alice-photo-1')}/`)).length).toBeGreaterThan(0);
  });
});
