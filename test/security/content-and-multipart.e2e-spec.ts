import { readFile } from 'node:fs/promises';
import request from 'supertest';
import { mediaFixtures } from '../support/fixtures';
import { createTestApp, TestApp } from '../support/test-app';
import { registerUser, TestUser } from '../support/users';
import { expectAlive, expectUnchanged, snapshot } from './support/attack-support';
import { BOUNDARY, CLOSE, field, filePart, multipartHeaders, rawRequest } from './support/raw-http';

const UPLOAD_ROUTES = ['/api/upload/media', '/api/video/upload'];

describe('Hostile content and multipart abuse: 4xx, nothing kept, and the process stays up', () => {
  let t: TestApp;
  let user: TestUser;
  let jpeg: Buffer;
  let mp4: Buffer;

  beforeAll(async () => {
    t = await createTestApp();
    user = await registerUser(t.url, 'attacker');
    const fx = await mediaFixtures();
    jpeg = await readFile(fx.jpeg);
    mp4 = await readFile(fx.mp4);
  });
  afterAll(() => t.close());

  /** Sends a body, expects one of `statuses`, and checks nothing changed and the service still answers. */
  async function expectRefused(
    path: string,
    body: Buffer,
    statuses: number[],
    headers: Record<string, string> = multipartHeaders(user.auth),
  ) {
    const before = await snapshot(t, { ignoreEnded: true });
    const res = await rawRequest(t.url, path, {
      headers: { ...headers, 'Content-Length': String(body.length) },
      body,
    });
    expect({ path, status: statuses.includes(res.status) ? 'expected' : res.status, body: res.body }).toEqual(
      {
        path,
        status: 'expected',
        body: expect.objectContaining({ success: false }),
      },
    );
    await expectUnchanged(t, before, { ignoreEnded: true });
    await expectAlive(t.url);
    return res;
  }

  describe('content that is not what it claims → 415 (or 400 when empty)', () => {
    const photoForm = (data: Buffer, filename: string, fileType = 'photo') =>
      Buffer.concat([field('fileType', fileType), filePart(data, filename), CLOSE]);

    it.each([
      [
        'plain text named .mp4',
        () => photoForm(Buffer.from('just some text, honestly a video'), 'clip.mp4', 'video'),
      ],
      [
        'HTML with a script named .jpg',
        () => photoForm(Buffer.from('<html><script>alert(1)</script></html>'), 'x.jpg'),
      ],
      [
        'an SVG with a script',
        () =>
          photoForm(
            Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'),
            'x.svg',
          ),
      ],
      ['a PDF named .jpg', () => photoForm(Buffer.from('%PDF-1.7\n1 0 obj<<>>endobj\n%%EOF'), 'x.jpg')],
      [
        'a ZIP (JAR) named .jpg',
        () => photoForm(Buffer.concat([Buffer.from('PK\u0003\u0004'), Buffer.alloc(200, 1)]), 'x.jpg'),
      ],
      [
        'an ELF executable named .mp4',
        () => photoForm(Buffer.concat([Buffer.from('\u007fELF'), Buffer.alloc(200, 0)]), 'x.mp4', 'video'),
      ],
      [
        'a GIF/HTML polyglot sent as a video',
        () => photoForm(Buffer.from('GIF89a/*<html><script>alert(1)</script>*/'), 'x.mp4', 'video'),
      ],
      [
        'a JPEG/ZIP polyglot sent as a video',
        () =>
          photoForm(Buffer.concat([jpeg, Buffer.from('PK\u0003\u0004'), Buffer.alloc(64)]), 'x.mp4', 'video'),
      ],
      ['a truncated mp4 (cut inside its ftyp box)', () => photoForm(mp4.subarray(0, 7), 'x.mp4', 'video')],
      ['a truncated jpeg (2 bytes)', () => photoForm(jpeg.subarray(0, 2), 'x.jpg')],
    ])('%s', async (_what, body) => {
      await expectRefused('/api/upload/media', body(), [415]);
    });

    it('a zero-byte file → 400 or 415, no record', async () => {
      await expectRefused('/api/upload/media', photoForm(Buffer.alloc(0), 'empty.jpg'), [400, 415]);
    });

    it('a polyglot that really is an allowed image is served only as that image, never sniffed', async () => {
      const body = photoForm(Buffer.from('GIF89a/*<html><script>alert(1)</script>*/'), 'x.gif');
      const res = await rawRequest(t.url, '/api/upload/media', {
        headers: { ...multipartHeaders(user.auth), 'Content-Length': String(body.length) },
        body,
      });
      if (res.status === 201) {
        const content = await request(t.url)
          .get(`/api/media/${res.body.uploadId}/content`)
          .set(user.auth)
          .expect(200);
        expect(content.headers['content-type']).toBe('image/gif');
        expect(content.headers['x-content-type-options']).toBe('nosniff');
        expect(content.headers['content-disposition']).toMatch(/^(inline|attachment)/);
        await request(t.url).delete(`/api/media/${res.body.uploadId}`).set(user.auth).expect(200);
      } else {
        expect(res.status).toBe(415);
      }
    });
  });

  describe.each(UPLOAD_ROUTES)('multipart abuse on %s → 400', (path) => {
    const fields = (): Buffer =>
      path === '/api/upload/media'
        ? field('fileType', 'photo')
        : Buffer.concat([
            field('fileId', 'abuse-file'),
            field('chunkIndex', '0'),
            field('status', 'uploading'),
          ]);

    it('an empty boundary', async () => {
      const body = Buffer.concat([fields(), filePart(jpeg), CLOSE]);
      await expectRefused(path, body, [400], {
        ...user.auth,
        'Content-Type': 'multipart/form-data; boundary=',
      });
    });

    it('no boundary at all', async () => {
      const body = Buffer.concat([fields(), filePart(jpeg), CLOSE]);
      await expectRefused(path, body, [400], { ...user.auth, 'Content-Type': 'multipart/form-data' });
    });

    it('a boundary that the body never uses', async () => {
      const body = Buffer.concat([fields(), filePart(jpeg), CLOSE]);
      await expectRefused(path, body, [400], multipartHeaders(user.auth, 'SomethingElseEntirely'));
    });

    it('a 200-character boundary', async () => {
      const body = Buffer.concat([fields(), filePart(jpeg), CLOSE]);
      await expectRefused(path, body, [400], multipartHeaders(user.auth, 'b'.repeat(200)));
    });

    it('a body truncated inside the file part (no closing boundary)', async () => {
      const body = Buffer.concat([fields(), filePart(jpeg)]).subarray(0, -20);
      await expectRefused(path, body, [400]);
    });

    it('a part with an empty field name', async () => {
      await expectRefused(path, Buffer.concat([fields(), field('', 'x'), filePart(jpeg), CLOSE]), [400]);
    });

    it('a part without a name', async () => {
      const nameless = Buffer.from(`--${BOUNDARY}\r\nContent-Disposition: form-data\r\n\r\nx\r\n`);
      await expectRefused(path, Buffer.concat([fields(), nameless, filePart(jpeg), CLOSE]), [400]);
    });

    it('__proto__ as a field name, a file field name and a part header', async () => {
      await expectRefused(
        path,
        Buffer.concat([fields(), field('__proto__', '{"polluted":true}'), filePart(jpeg), CLOSE]),
        [400],
      );
      await expectRefused(
        path,
        Buffer.concat([fields(), filePart(jpeg, 'a.jpg', '__proto__'), CLOSE]),
        [400],
      );
      await expectRefused(
        path,
        Buffer.concat([fields(), field('constructor[prototype][polluted]', 'yes'), filePart(jpeg), CLOSE]),
        [400],
      );
      const header = field('title', 'x', '__proto__: {"polluted":true}\r\nconstructor: x\r\n');
      const res = await rawRequest(t.url, path, {
        headers: { ...multipartHeaders(user.auth) },
        body: Buffer.concat([fields(), header, CLOSE]),
      });
      expect(res.status).toBeGreaterThanOrEqual(400);
      expect(res.status).toBeLessThan(500);
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    });

    it('items[4294967294] style field names', async () => {
      await expectRefused(
        path,
        Buffer.concat([fields(), field('items[4294967294]', 'x'), filePart(jpeg), CLOSE]),
        [400],
      );
      await expectRefused(
        path,
        Buffer.concat([fields(), field('a[b][c][d][e][f]', 'x'), filePart(jpeg), CLOSE]),
        [400],
      );
    });

    it('10 000 fields', async () => {
      const many = Array.from({ length: 10_000 }, (_, i) => field(`f${i}`, 'x'));
      await expectRefused(path, Buffer.concat([fields(), ...many, filePart(jpeg), CLOSE]), [400]);
    });

    it('10 000 file parts', async () => {
      const many = Array.from({ length: 10_000 }, (_, i) =>
        filePart(Buffer.from('x'), `f${i}.jpg`, `file${i}`),
      );
      await expectRefused(path, Buffer.concat([fields(), ...many, CLOSE]), [400]);
    });

    it('duplicate title fields', async () => {
      await expectRefused(
        path,
        Buffer.concat([fields(), field('title', 'one'), field('title', 'two'), filePart(jpeg), CLOSE]),
        [400],
      );
    });

    it('a part header of 100 KB', async () => {
      const header = field('title', 'x', `X-Long: ${'h'.repeat(100_000)}\r\n`);
      await expectRefused(path, Buffer.concat([fields(), header, filePart(jpeg), CLOSE]), [400]);
    });
  });
});
