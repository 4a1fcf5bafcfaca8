import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import request from 'supertest';
import { StorageDriver } from '../../src/storage';
import { mediaFixtures, MediaFixtures } from '../support/fixtures';
import { readStored } from '../support/stored-objects';
import { createTestApp, TestApp } from '../support/test-app';
import { registerUser, TestUser } from '../support/users';
import { FilePart, Part, upload } from './support/multipart-upload';
import { mediaFiles, mediaRecord, progressRecord, tmpFiles } from './support/stored-state';
import { processingSettled } from '../support/processing';

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

describe('POST /api/upload/media', () => {
  let t: TestApp;
  let alice: TestUser;
  let fixtures: MediaFixtures;
  let mp4: Buffer;
  let jpeg: Buffer;

  const file = (data: Buffer, filename = 'clip.mp4', contentType = 'video/mp4'): FilePart => ({
    name: 'file',
    filename,
    contentType,
    data,
  });
  const send = (user: TestUser, parts: Part[], headers: Record<string, string> = {}) =>
    upload(t.url, { parts, headers: { ...user.auth, ...headers } });

  beforeAll(async () => {
    t = await createTestApp({ env: { PROGRESS_PERSIST_MS: '100' } });
    alice = await registerUser(t.url, 'alice');
    fixtures = await mediaFixtures();
    mp4 = await readFile(fixtures.mp4);
    jpeg = await readFile(fixtures.jpeg);
  });
  afterAll(async () => {
    expect(await tmpFiles(t)).toEqual([]);
    await t.close();
  });
  afterEach(() => jest.restoreAllMocks());

  it('stores a video and answers 201 in the seed shape', async () => {
    const res = await send(alice, [
      { name: 'fileType', value: 'video' },
      { name: 'title', value: 'My Video' },
      { name: 'description', value: 'Test video' },
      { name: 'chatId', value: '507f1f77bcf86cd799439011' },
      file(mp4),
    ]);
    expect(res.status).toBe(201);
    const { uploadId } = res.body;
    expect(res.body).toMatchObject({
      success: true,
      message: 'Media uploaded successfully',
      uploadId: expect.stringMatching(/^[A-Za-z0-9_-]{8,64}$/),
      fileUrl: `/api/media/${uploadId}/content`,
      fileName: `${uploadId}.mp4`,
      fileType: 'video',
      fileSize: mp4.length,
      mimeType: 'video/mp4',
      checksumSha256: sha256(mp4),
      originalName: 'clip.mp4',
      status: 'completed',
      title: 'My Video',
      chatId: '507f1f77bcf86cd799439011',
    });
    const stored = await readStored(t, `media/${alice.id}/${uploadId}.mp4`);
    expect(stored.equals(mp4)).toBe(true);
    expect(await mediaRecord(t, uploadId)).toMatchObject({
      status: 'completed',
      fileType: 'video',
      storageKey: `media/${alice.id}/${uploadId}.mp4`,
      checksumSha256: sha256(mp4),
      description: 'Test video',
    });
    expect(await progressRecord(t, uploadId)).toMatchObject({
      status: 'completed',
      percentComplete: 100,
      bytesUploaded: mp4.length,
      totalBytes: mp4.length,
    });
  });

  it.each<[string, 'photo' | 'camera' | 'video', keyof MediaFixtures, string, string]>([
    ['a jpeg photo', 'photo', 'jpeg', 'jpg', 'image/jpeg'],
    ['a png photo', 'photo', 'png', 'png', 'image/png'],
    ['a webm camera video', 'camera', 'webm', 'webm', 'video/webm'],
    ['a gif camera photo', 'camera', 'gif', 'gif', 'image/gif'],
    ['a mov video', 'video', 'mov', 'mov', 'video/quicktime'],
    ['a 3gp video', 'video', 'threeGp', '3gp', 'video/3gpp'],
  ])(
    'stores %s under the detected extension, whatever the client named it',
    async (_l, fileType, name, ext, mime) => {
      const data = await readFile(fixtures[name]);
      const res = await send(alice, [
        { name: 'fileType', value: fileType },
        file(data, 'upload.bin', 'application/octet-stream'),
      ]);
      expect(res.status).toBe(201);
      expect(res.body).toMatchObject({
        fileName: `${res.body.uploadId}.${ext}`,
        mimeType: mime,
        fileSize: data.length,
      });
      const stored = await readStored(t, `media/${alice.id}/${res.body.uploadId}.${ext}`);
      expect(stored.equals(data)).toBe(true);
    },
  );

  it('accepts the file part before the fields and checks the category once the fields arrive', async () => {
    const res = await send(alice, [file(jpeg, 'a.jpg', 'image/jpeg'), { name: 'fileType', value: 'photo' }]);
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ fileType: 'photo', mimeType: 'image/jpeg' });
  });

  describe('type by content', () => {
    it('rejects a jpeg sent as fileType=video with 415 before writing a byte', async () => {
      await processingSettled(t); // earlier uploads' derived files are writes too
      const writes = jest.spyOn(t.app.get(StorageDriver), 'openWrite');
      const res = await send(alice, [{ name: 'fileType', value: 'video' }, file(jpeg, 'holiday.mp4')], {
        'X-Upload-Id': 'spoof-jpeg-as-video',
      });
      expect(res.status).toBe(415);
      expect(res.body).toMatchObject({ success: false, error: 'UNSUPPORTED_MEDIA_TYPE' });
      expect(res.body.message).toContain('mp4, mov, webm, mkv, 3gp');
      expect(writes).not.toHaveBeenCalled();
      expect(await mediaRecord(t, 'spoof-jpeg-as-video')).toMatchObject({
        status: 'failed',
        failureReason: expect.stringContaining('UNSUPPORTED_MEDIA_TYPE'),
      });
      expect(await progressRecord(t, 'spoof-jpeg-as-video')).toMatchObject({ status: 'failed' });
      expect(await tmpFiles(t)).toEqual([]);
    });

    it('rejects a jpeg sent as fileType=video after the fields when the file part came first, keeping nothing', async () => {
      const before = await mediaFiles(t, alice.id);
      const res = await send(alice, [file(jpeg, 'holiday.mp4'), { name: 'fileType', value: 'video' }], {
        'X-Upload-Id': 'spoof-file-first',
      });
      expect(res.status).toBe(415);
      expect(await mediaFiles(t, alice.id)).toEqual(before);
      expect(await tmpFiles(t)).toEqual([]);
      expect(await mediaRecord(t, 'spoof-file-first')).toMatchObject({ status: 'failed', fileType: 'video' });
    });

    it('rejects plain text renamed .mp4 with Content-Type video/mp4 with 415', async () => {
      const text = Buffer.from('just some notes, definitely not a video\n'.repeat(200));
      await processingSettled(t); // earlier uploads' derived files are writes too
      const writes = jest.spyOn(t.app.get(StorageDriver), 'openWrite');
      const res = await send(alice, [
        { name: 'fileType', value: 'camera' },
        file(text, 'movie.mp4', 'video/mp4'),
      ]);
      expect(res.status).toBe(415);
      expect(res.body.error).toBe('UNSUPPORTED_MEDIA_TYPE');
      expect(writes).not.toHaveBeenCalled();
    });

    it('rejects an m4a (audio) even as a camera upload', async () => {
      const res = await send(alice, [
        { name: 'fileType', value: 'camera' },
        file(await readFile(fixtures.m4a), 'a.mp4'),
      ]);
      expect(res.status).toBe(415);
    });
  });

  describe('original file name', () => {
    it('keeps a UTF-8 name intact', async () => {
      const res = await send(alice, [{ name: 'fileType', value: 'video' }, file(mp4, 'Declaração.mp4')]);
      expect(res.status).toBe(201);
      expect(res.body.originalName).toBe('Declaração.mp4');
    });

    it('strips control and bidi-override characters and caps the length', async () => {
      const res = await send(alice, [
        { name: 'fileType', value: 'video' },
        { ...file(mp4, `a\u0007b\u202Ec\u200Fd\u0000${'x'.repeat(400)}.mp4`), encodeFilename: true },
      ]);
      expect(res.body).toMatchObject({ status: 'completed' });
      expect(res.body.originalName).toBe(`abcd${'x'.repeat(251)}`);
      expect(res.body.fileName).toBe(`${res.body.uploadId}.mp4`);
    });
  });

  describe('X-Upload-Id', () => {
    it('names the upload, refuses a reused id with 409 and leaves the first upload untouched', async () => {
      const first = await send(alice, [{ name: 'fileType', value: 'video' }, file(mp4)], {
        'X-Upload-Id': 'my-upload-0001',
      });
      expect(first.status).toBe(201);
      expect(first.body.uploadId).toBe('my-upload-0001');
      const again = await send(alice, [{ name: 'fileType', value: 'photo' }, file(jpeg, 'b.jpg')], {
        'X-Upload-Id': 'my-upload-0001',
      });
      expect(again.status).toBe(409);
      expect(again.body.error).toBe('UPLOAD_ID_TAKEN');
      expect(await mediaRecord(t, 'my-upload-0001')).toMatchObject({
        status: 'completed',
        mimeType: 'video/mp4',
      });
      expect(await mediaFiles(t, alice.id)).toContain('my-upload-0001.mp4');
    });

    it("lets another user use the same id: ids are per user and reveal nothing about others' uploads", async () => {
      const bob = await registerUser(t.url, 'bob');
      await send(alice, [{ name: 'fileType', value: 'video' }, file(mp4)], {
        'X-Upload-Id': 'shared-id-0001',
      });
      const res = await send(bob, [{ name: 'fileType', value: 'photo' }, file(jpeg, 'b.jpg')], {
        'X-Upload-Id': 'shared-id-0001',
      });
      expect(res.status).toBe(201);
      expect(await mediaFiles(t, bob.id)).toEqual(['shared-id-0001.jpg']);
    });

    it('rejects a malformed id with 400 before reading the body', async () => {
      const res = await send(alice, [{ name: 'fileType', value: 'video' }, file(mp4)], {
        'X-Upload-Id': '../../etc',
      });
      expect(res.status).toBe(400);
      expect(await mediaRecord(t, '../../etc')).toBeNull();
    });
  });

  describe('X-Content-SHA256', () => {
    it('accepts a matching checksum', async () => {
      const res = await send(alice, [{ name: 'fileType', value: 'video' }, file(mp4)], {
        'X-Content-SHA256': sha256(mp4).toUpperCase(),
      });
      expect(res.status).toBe(201);
      expect(res.body.checksumSha256).toBe(sha256(mp4));
    });

    it('answers 422 on a mismatch and keeps nothing', async () => {
      const before = await mediaFiles(t, alice.id);
      const res = await send(alice, [{ name: 'fileType', value: 'video' }, file(mp4)], {
        'X-Content-SHA256': sha256(Buffer.from('something else')),
        'X-Upload-Id': 'checksum-mismatch',
      });
      expect(res.status).toBe(422);
      expect(res.body).toMatchObject({ error: 'CHECKSUM_MISMATCH', actual: sha256(mp4) });
      expect(await mediaFiles(t, alice.id)).toEqual(before);
      expect(await tmpFiles(t)).toEqual([]);
      expect(await mediaRecord(t, 'checksum-mismatch')).toMatchObject({
        status: 'failed',
        failureReason: expect.stringContaining('CHECKSUM_MISMATCH'),
      });
    });

    it('rejects a checksum that is not 64 hex digits with 400', async () => {
      const res = await send(alice, [{ name: 'fileType', value: 'video' }, file(mp4)], {
        'X-Content-SHA256': 'abc',
      });
      expect(res.status).toBe(400);
    });
  });

  describe('bad input answers 400 and stores nothing', () => {
    it.each<[string, Part[]]>([
      ['a bad fileType', [{ name: 'fileType', value: 'document' }]],
      [
        'a title over 200 characters',
        [
          { name: 'fileType', value: 'video' },
          { name: 'title', value: 't'.repeat(201) },
        ],
      ],
      [
        'a description over 5000 characters',
        [
          { name: 'fileType', value: 'video' },
          { name: 'description', value: 'd'.repeat(5001) },
        ],
      ],
      [
        'a chatId that is not an ObjectId',
        [
          { name: 'fileType', value: 'video' },
          { name: 'chatId', value: 'chat-1' },
        ],
      ],
      [
        'an unknown field',
        [
          { name: 'fileType', value: 'video' },
          { name: 'isAdmin', value: 'true' },
        ],
      ],
      [
        'a nested field name',
        [
          { name: 'fileType', value: 'video' },
          { name: 'title[x]', value: 'a' },
        ],
      ],
    ])('%s before the file', async (_label, fields) => {
      await processingSettled(t); // earlier uploads' derived files are writes too
      const writes = jest.spyOn(t.app.get(StorageDriver), 'openWrite');
      const res = await send(alice, [...fields, file(mp4)], { 'X-Upload-Id': 'bad-input-0001' });
      expect(res.status).toBe(400);
      expect(res.body.success).toBe(false);
      expect(writes).not.toHaveBeenCalled();
      expect(await mediaRecord(t, 'bad-input-0001')).toBeNull();
      expect(await progressRecord(t, 'bad-input-0001')).toBeNull();
    });

    it.each<[string, () => Part[], string]>([
      [
        'a title over 200 characters after the file',
        () => [file(mp4), { name: 'fileType', value: 'video' }, { name: 'title', value: 't'.repeat(201) }],
        'title',
      ],
      ['a missing fileType', () => [file(mp4)], 'fileType'],
      ['a missing file', () => [{ name: 'fileType', value: 'video' }], 'file'],
    ])('%s', async (_label, parts, field) => {
      const before = await mediaFiles(t, alice.id);
      const res = await send(alice, parts(), { 'X-Upload-Id': 'bad-input-0002' });
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ error: 'VALIDATION_FAILED' });
      expect(Object.keys(res.body.errors)).toContain(field);
      expect(await mediaRecord(t, 'bad-input-0002')).toBeNull();
      expect(await progressRecord(t, 'bad-input-0002')).toBeNull();
      expect(await mediaFiles(t, alice.id)).toEqual(before);
      expect(await tmpFiles(t)).toEqual([]);
    });

    it('a file in another field than "file"', async () => {
      const res = await send(alice, [
        { name: 'fileType', value: 'video' },
        { ...file(mp4), name: 'video' },
      ]);
      expect(res.status).toBe(400);
      expect(res.body.error).toBe('INVALID_MULTIPART');
    });

    it('two files', async () => {
      const res = await send(
        alice,
        [{ name: 'fileType', value: 'video' }, file(mp4), file(mp4, 'again.mp4')],
        {
          'X-Upload-Id': 'two-files-0001',
        },
      );
      expect(res.status).toBe(400);
      expect(await mediaRecord(t, 'two-files-0001')).toBeNull();
    });

    it('a JSON body instead of multipart', async () => {
      const res = await request(t.url).post('/api/upload/media').set(alice.auth).send({ fileType: 'video' });
      expect(res.status).toBe(400);
      expect(res.body.error).toBe('INVALID_MULTIPART');
    });

    it('the same id works once the bad request is fixed', async () => {
      const res = await send(alice, [{ name: 'fileType', value: 'video' }, file(mp4)], {
        'X-Upload-Id': 'bad-input-0001',
      });
      expect(res.status).toBe(201);
    });
  });

  it('needs a bearer token', async () => {
    const res = await upload(t.url, { parts: [{ name: 'fileType', value: 'video' }, file(mp4)] });
    expect(res.status).toBe(401);
  });
});
