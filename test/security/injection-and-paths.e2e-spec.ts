import { readFile } from 'node:fs/promises';
import request from 'supertest';
import { postChunk } from '../chunk/seed-support';
import { TUS, tusMetadata } from '../chunk/tus-support';
import { upload } from '../media/support/multipart-upload';
import { mediaFixtures, MediaFixtures } from '../support/fixtures';
import { createTestApp, TestApp } from '../support/test-app';
import { storedKeys } from '../support/stored-objects';
import { registerUser, TestUser } from '../support/users';
import { expectAlive, snapshot } from './support/attack-support';

describe('Injection, path traversal and hostile names', () => {
  let t: TestApp;
  let alice: TestUser;
  let bob: TestUser;
  let fx: MediaFixtures;

  beforeAll(async () => {
    t = await createTestApp();
    fx = await mediaFixtures();
    alice = await registerUser(t.url, 'alice');
    bob = await registerUser(t.url, 'bob');
    // Alice owns one finished photo: no injection may ever surface it to bob.
    await request(t.url)
      .post('/api/upload/media')
      .set(alice.auth)
      .set('X-Upload-Id', 'alice-secret-01')
      .field('fileType', 'photo')
      .attach('file', fx.jpeg)
      .expect(201);
  });
  afterAll(() => t.close());

  describe('operator injection → 400 or no match, never anything of another user', () => {
    const bodies: [string, string, object][] = [
      ['login', '/api/auth/login', { login: { $gt: '' }, password: { $ne: null } }],
      ['login', '/api/auth/login', { login: 'alice', password: { $ne: null } }],
      ['login', '/api/auth/login', { login: { $regex: '.*' }, password: 'correct horse battery' }],
      [
        'register',
        '/api/auth/register',
        { username: { $ne: null }, email: 'x@example.com', password: 'p'.repeat(10) },
      ],
      [
        'register',
        '/api/auth/register',
        { username: 'newuser', email: { $gt: '' }, password: 'p'.repeat(10) },
      ],
    ];

    it.each(bodies)('JSON body of %s with operators → 400, no account touched', async (_name, path, body) => {
      const before = await snapshot(t);
      const res = await request(t.url).post(path).send(body);
      expect(res.status).toBe(400);
      expect(res.body.error).toBe('VALIDATION_FAILED');
      expect(await snapshot(t)).toEqual(before);
    });

    it('a JSON array body is refused, and __proto__/constructor keys pollute nothing (the app runs in this process)', async () => {
      const array = await request(t.url)
        .post('/api/auth/login')
        .set('Content-Type', 'application/json')
        .send('[]');
      expect(array.status).toBe(400);
      const proto = await request(t.url)
        .post('/api/auth/login')
        .set('Content-Type', 'application/json')
        .send('{"login":"a","password":"b","__proto__":{"admin":true},"constructor":{"prototype":{"x":1}}}');
      // Dropped before validation (class-transformer never copies them), so this is just a failed login.
      expect([400, 401]).toContain(proto.status);
      expect(({} as Record<string, unknown>).admin).toBeUndefined();
      expect(({} as Record<string, unknown>).x).toBeUndefined();
    });

    const queries: string[] = [
      'status[$ne]=completed',
      'status=%7B%22%24ne%22%3Anull%7D',
      'fileType[$gt]=',
      'chatId[$ne]=000000000000000000000000',
      'cursor[$gt]=',
      'userId=' + '0'.repeat(24),
      'filter=anything',
      'limit=5&sort=-uploadedAt',
      '$where=1',
    ];

    it.each(queries)('GET /api/media?%s → 400 (unknown keys and operators are refused)', async (query) => {
      const res = await request(t.url).get(`/api/media?${query}`).set(bob.auth);
      expect(res.status).toBe(400);
      expect(JSON.stringify(res.body)).not.toContain('alice-secret-01');
    });

    it('an operator in a multipart field (fileId) or tus metadata (chatId) → 400, nothing stored', async () => {
      const before = await snapshot(t);
      const chunk = await postChunk(
        t.url,
        bob.token,
        { fileId: '{"$gt":""}', chunkIndex: 0, status: 'uploading' },
        Buffer.from('x'),
      );
      expect(chunk.status).toBe(400);
      const tus = await request(t.url)
        .post('/api/tus')
        .set({
          ...bob.auth,
          ...TUS,
          'Upload-Length': '10',
          'Upload-Metadata': tusMetadata({ chatId: '{"$ne":null}' }),
        });
      expect(tus.status).toBe(400);
      expect(await snapshot(t)).toEqual(before);
    });

    it('signed-link query operators do not open a file', async () => {
      const res = await request(t.url).get(
        '/api/media/alice-secret-01/content?uid[$ne]=x&signature[$gt]=&expires=9999999999',
      );
      expect([400, 401, 403, 404]).toContain(res.status);
    });
  });

  describe('path traversal in every id → 400 or 404, nothing read or written outside the upload folder', () => {
    const evil = [
      '../../../../etc/passwd',
      '..%2F..%2F..%2Fetc%2Fpasswd',
      '..%252F..%252Fetc%252Fpasswd',
      '%2e%2e%2f%2e%2e%2fetc%2fpasswd',
      '..\\..\\..\\windows\\win.ini',
      '..%5C..%5Cwindows',
      'abcdefgh%00.mp4',
      'abcdefgh%2500',
      '....//....//etc',
      '%c0%ae%c0%ae%2fetc',
      `alice-secret-01%2F..%2F..%2F${'x'.repeat(8)}`,
    ];
    const routes: [string, (id: string) => request.Test][] = [
      ['GET /api/media/:id', (id) => request(t.url).get(`/api/media/${id}`)],
      ['GET /api/media/:id/content', (id) => request(t.url).get(`/api/media/${id}/content`)],
      ['DELETE /api/media/:id', (id) => request(t.url).delete(`/api/media/${id}`)],
      ['GET /api/upload/progress/:id', (id) => request(t.url).get(`/api/upload/progress/${id}`)],
      ['POST /api/upload/cancel/:id', (id) => request(t.url).post(`/api/upload/cancel/${id}`)],
      ['GET /api/video/status/:fileId', (id) => request(t.url).get(`/api/video/status/${id}`)],
      ['HEAD /api/tus/:id', (id) => request(t.url).head(`/api/tus/${id}`).set(TUS)],
      [
        'PATCH /api/tus/:id',
        (id) =>
          request(t.url)
            .patch(`/api/tus/${id}`)
            .set({ ...TUS, 'Upload-Offset': '0', 'Content-Type': 'application/offset+octet-stream' })
            .send('x'),
      ],
      ['DELETE /api/tus/:id', (id) => request(t.url).delete(`/api/tus/${id}`).set(TUS)],
    ];
    const cases = routes.flatMap(([route, call]) => evil.map((id) => [route, id, call] as const));

    it.each(cases)('%s with %s', async (_route, id, call) => {
      const before = await snapshot(t);
      const res = await call(id).set(alice.auth);
      expect([400, 404]).toContain(res.status);
      expect(await snapshot(t)).toEqual(before);
    });

    it.each(['../../escape-1', '..\\..\\escape', 'abc/def/ghij', 'abcdefgh\u0000', '%2e%2e%2fescape'])(
      'X-Upload-Id %j → 400 before the body is read',
      async (id) => {
        const before = await snapshot(t);
        const res = await upload(t.url, {
          headers: { ...alice.auth, 'X-Upload-Id': encodeURI(id) },
          parts: [
            { name: 'fileType', value: 'photo' },
            { name: 'file', filename: 'a.jpg', data: await readFile(fx.jpeg) },
          ],
        });
        expect(res.status).toBe(400);
        expect(await snapshot(t)).toEqual(before);
      },
    );

    it.each(['../../escape', '..\\..\\escape', 'a/b', 'abc\u0000', '.', '..', 'x'.repeat(129)])(
      'chunk fileId %j → 400, nothing stored',
      async (fileId) => {
        const before = await snapshot(t);
        const res = await postChunk(
          t.url,
          alice.token,
          { fileId, chunkIndex: 0, status: 'uploading' },
          Buffer.from('x'),
        );
        expect(res.status).toBe(400);
        expect(await snapshot(t)).toEqual(before);
      },
    );
  });

  describe('tus header abuse gets the shared JSON error body (found by the API fuzzer)', () => {
    it.each([
      ['no Tus-Resumable', {}, 412, 'TUS_RESUMABLE_REQUIRED'],
      [
        'an empty Upload-Length',
        { 'Tus-Resumable': '1.0.0', 'Upload-Length': '' },
        400,
        'INVALID_TUS_HEADER',
      ],
      [
        'a negative Upload-Length',
        { 'Tus-Resumable': '1.0.0', 'Upload-Length': '-1' },
        400,
        'INVALID_TUS_HEADER',
      ],
      [
        'an Upload-Length of 2^64',
        { 'Tus-Resumable': '1.0.0', 'Upload-Length': '18446744073709551616' },
        400,
        'INVALID_TUS_HEADER',
      ],
    ])('POST /api/tus with %s → %i JSON', async (_what, headers, status, code) => {
      const before = await snapshot(t);
      const res = await request(t.url)
        .post('/api/tus')
        .set(alice.auth)
        .set(headers as Record<string, string>);
      expect(res.status).toBe(status);
      expect(res.headers['content-type']).toMatch(/^application\/json/);
      expect(res.body).toMatchObject({ success: false, statusCode: status, error: code });
      expect(await snapshot(t)).toEqual(before);
    });
  });

  describe('hostile file names are stored under server-made names and shown safely', () => {
    const names: [string, string, string][] = [
      ['a ../ path', '../../../../tmp/evil.jpg', 'evil.jpg'],
      ['a Windows path', '..\\..\\Windows\\evil.jpg', 'evil.jpg'],
      ['an RTL override', 'photo\u202Egpj.exe', 'photogpj.exe'],
      ['CR/LF (header injection)', 'a\r\nSet-Cookie: x=1.jpg', 'aSet-Cookie: x=1.jpg'],
      ['a 10 000-character name', `${'n'.repeat(10_000)}.jpg`, 'n'.repeat(255)],
      ['UTF-8 (Declaração.jpg)', 'Declaração.jpg', 'Declaração.jpg'],
      ['UTF-8 emoji and CJK', '写真 📷.jpg', '写真 📷.jpg'],
    ];

    it.each(names)('%s', async (_what, filename, shown) => {
      const res = await upload(t.url, {
        headers: alice.auth,
        parts: [
          { name: 'fileType', value: 'photo' },
          { name: 'file', filename, encodeFilename: true, data: await readFile(fx.jpeg) },
        ],
      });
      expect(res.status).toBe(201);
      const id = res.body.uploadId as string;
      expect(res.body.fileName).toBe(`${id}.jpg`);
      expect(res.body.originalName).toBe(shown);
      // Stored where the server decides (the file, and the thumbnails made from it), nowhere else.
      expect(await storedKeys(t)).toContain(`media/${alice.id}/${id}.jpg`);
      const areas = ['media/', 'tmp/', 'derived/'];
      expect((await storedKeys(t)).every((file) => areas.some((area) => file.startsWith(area)))).toBe(true);
      const record = await request(t.url).get(`/api/media/${id}`).set(alice.auth).expect(200);
      expect(record.body.originalName ?? record.body.media?.originalName).toBe(shown);
      const content = await request(t.url).get(`/api/media/${id}/content`).set(alice.auth).expect(200);
      const disposition = String(content.headers['content-disposition']);
      expect(disposition).not.toMatch(/[\r\n]/);
      expect(content.headers['set-cookie']).toBeUndefined();
      if (shown === 'Declaração.jpg')
        expect(disposition).toContain("filename*=UTF-8''Declara%C3%A7%C3%A3o.jpg");
    });

    it('a raw (not percent-encoded) UTF-8 name is read as UTF-8, not Latin-1', async () => {
      const res = await upload(t.url, {
        headers: alice.auth,
        parts: [
          { name: 'fileType', value: 'photo' },
          { name: 'file', filename: 'Declaração.jpg', data: await readFile(fx.jpeg) },
        ],
      });
      expect(res.status).toBe(201);
      expect(res.body.originalName).toBe('Declaração.jpg');
      await expectAlive(t.url);
    });
  });
});
