import { readFile } from 'node:fs/promises';
import { mediaFixtures } from '../support/fixtures';
import { processingSettled } from '../support/processing';
import { assemblyKeys, storedSha256 } from '../support/stored-objects';
import { createTestApp, TestApp } from '../support/test-app';
import { registerUser, TestUser } from '../support/users';
import { mediaRecord, waitFor } from '../media/support/stored-state';
import { idOf, ietfRequest, PARTIAL, reprDigest, sha256 } from './support/ietf-client';

describe('IETF resumable uploads at /api/uploads: uploads', () => {
  let t: TestApp;
  let alice: TestUser;
  let mp4: Buffer;
  let jpeg: Buffer;

  beforeAll(async () => {
    // The fixtures are a few KiB, appended in halves: min-append-size is ietf-protocol's subject.
    t = await createTestApp({ env: { MAX_RESUMABLE_BYTES: '5000000', MIN_RESUMABLE_APPEND_BYTES: '0' } });
    alice = await registerUser(t.url, 'alice');
    const fixtures = await mediaFixtures();
    [mp4, jpeg] = await Promise.all([readFile(fixtures.mp4), readFile(fixtures.jpeg)]);
  });

  afterAll(() => t.close());

  const send = (options: Parameters<typeof ietfRequest>[1]) => ietfRequest(t.url, options);
  const head = (id: string) => send({ method: 'HEAD', url: `/api/uploads/${id}`, headers: alice.auth });

  it('optimistic creation: one request with the whole file answers 201 with the upload JSON; processing runs', async () => {
    const res = await send({
      method: 'POST',
      url: '/api/uploads',
      headers: {
        ...alice.auth,
        'Upload-Complete': '?1',
        'Upload-Draft-Interop-Version': '8',
        'X-File-Type': 'video',
        'X-Title': 'Holiday',
        'Content-Disposition': `inline; filename="clip.mp4"; filename*=UTF-8''cl%C3%AFp.mp4`,
        'Repr-Digest': reprDigest(sha256(mp4)),
      },
      body: mp4,
    });
    expect(res.status).toBe(201);
    expect(res.headers['upload-complete']).toBe('?1');
    const id = idOf(res.headers.location);
    expect(res.body).toMatchObject({
      success: true,
      uploadId: id,
      fileType: 'video',
      fileSize: mp4.length,
      mimeType: 'video/mp4',
      checksumSha256: sha256(mp4),
      originalName: 'clïp.mp4',
      title: 'Holiday',
      status: 'completed',
    });
    const record = await mediaRecord(t, id);
    expect(record).toMatchObject({ source: 'ietf', status: 'completed' });
    expect(await storedSha256(t, String(record?.storageKey))).toBe(sha256(mp4));
    expect(await assemblyKeys(t, `ietf/${id}`)).toEqual([]);
    await processingSettled(t);
    expect((await mediaRecord(t, id))?.processing?.status).toBe('done');

    const after = await head(id);
    expect(after.status).toBe(204);
    expect(after.headers['upload-complete']).toBe('?1');
    expect(after.headers['upload-offset']).toBe(String(mp4.length));
  });

  it('an interrupted creation is resumed with HEAD and PATCH; the stored file is byte-identical', async () => {
    let location = '';
    const cut = await send({
      method: 'POST',
      url: '/api/uploads',
      headers: {
        ...alice.auth,
        'Upload-Complete': '?1',
        'Upload-Draft-Interop-Version': '8',
        'X-File-Type': 'video',
        'Content-Length': String(mp4.length),
      },
      body: mp4,
      cutAfter: Math.floor(mp4.length / 2),
      onInterim: (interim) => (location = String(interim.headers.location)),
    });
    expect(cut.status).toBe(0);
    expect(cut.interims[0]).toMatchObject({ status: 104 });
    expect(cut.interims[0].headers['upload-draft-interop-version']).toBe('8');
    expect(cut.interims[0].headers['upload-limit']).toMatch(/max-size=5000000/);
    const id = idOf(location);
    // HEAD stops the creation request if the server still runs it, so its offset is final.
    const state = await waitFor(async () => {
      const res = await head(id);
      return res.status === 204 ? res : undefined;
    }, 'the offset');
    expect(state.headers['upload-complete']).toBe('?0');
    expect(state.headers['upload-length']).toBe(String(mp4.length));
    expect(state.headers['cache-control']).toBe('no-store');
    const offset = Number(state.headers['upload-offset']);
    expect(offset).toBeLessThanOrEqual(Math.floor(mp4.length / 2));

    const done = await send({
      method: 'PATCH',
      url: location,
      headers: { ...alice.auth, ...PARTIAL, 'Upload-Complete': '?1', 'Upload-Offset': String(offset) },
      body: mp4.subarray(offset),
    });
    expect(done.status).toBe(201);
    expect(done.headers['upload-complete']).toBe('?1');
    expect(done.body).toMatchObject({ uploadId: id, checksumSha256: sha256(mp4), fileSize: mp4.length });
    const record = await mediaRecord(t, id);
    expect(await storedSha256(t, String(record?.storageKey))).toBe(sha256(mp4));
  });

  it('careful creation (?0, no content) then PATCHes; a missing X-File-Type is inferred from the content', async () => {
    const created = await send({
      method: 'POST',
      url: '/api/uploads',
      headers: { ...alice.auth, 'Upload-Complete': '?0', 'Content-Type': 'application/octet-stream' },
    });
    expect(created.status).toBe(201);
    expect(created.interims).toEqual([]); // no interop version, no 104
    expect(created.headers['upload-complete']).toBe('?0');
    expect(created.headers['upload-offset']).toBe('0');
    expect(created.headers['upload-limit']).toMatch(/max-size=5000000, max-age=\d+/);
    const id = idOf(created.headers.location);
    expect(created.headers.location).toContain(`/api/uploads/${id}`);

    const half = Math.floor(mp4.length / 2);
    const first = await send({
      method: 'PATCH',
      url: `/api/uploads/${id}`,
      headers: { ...alice.auth, ...PARTIAL, 'Upload-Complete': '?0', 'Upload-Offset': '0' },
      body: mp4.subarray(0, half),
    });
    expect(first.status).toBe(204);
    expect(first.headers['upload-offset']).toBe(String(half));
    expect(first.headers['upload-complete']).toBe('?0');
    expect((await head(id)).headers['upload-length']).toBeUndefined(); // not known yet

    const last = await send({
      method: 'PATCH',
      url: `/api/uploads/${id}`,
      headers: { ...alice.auth, ...PARTIAL, 'Upload-Complete': '?1', 'Upload-Offset': String(half) },
      body: mp4.subarray(half),
    });
    expect(last.status).toBe(201);
    expect(last.body).toMatchObject({
      fileType: 'video',
      mimeType: 'video/mp4',
      checksumSha256: sha256(mp4),
    });
    expect((await mediaRecord(t, id))?.fileType).toBe('video');
  });

  it('an image/* Content-Type picks photo; a JPEG completes as a photo', async () => {
    const res = await send({
      method: 'POST',
      url: '/api/uploads',
      headers: { ...alice.auth, 'Upload-Complete': '?1', 'Content-Type': 'image/jpeg' },
      body: jpeg,
    });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ fileType: 'photo', mimeType: 'image/jpeg' });
  });

  it('a PDF is refused with 415 once its head is in, the upload ends failed and nothing is left', async () => {
    const pdf = Buffer.concat([Buffer.from('%PDF-1.7\n'), Buffer.alloc(20_000, 0x20)]);
    let location = '';
    const res = await send({
      method: 'POST',
      url: '/api/uploads',
      headers: { ...alice.auth, 'Upload-Complete': '?1', 'Upload-Draft-Interop-Version': '8' },
      body: pdf,
      onInterim: (interim) => (location = String(interim.headers.location)),
    });
    expect(res.status).toBe(415);
    expect(res.body).toMatchObject({ error: 'UNSUPPORTED_MEDIA_TYPE' });
    const id = idOf(location);
    expect(await mediaRecord(t, id)).toMatchObject({ status: 'failed' });
    expect(await assemblyKeys(t, `ietf/${id}`)).toEqual([]);
    expect(await t.connection.collection('ietf_uploads').findOne({ _id: id as never })).toBeNull();
  });

  it('a file that does not match its Repr-Digest is refused with 422 and nothing is kept', async () => {
    const res = await send({
      method: 'POST',
      url: '/api/uploads',
      headers: {
        ...alice.auth,
        'Upload-Complete': '?1',
        'X-File-Type': 'video',
        'Repr-Digest': reprDigest(sha256(Buffer.from('something else'))),
      },
      body: mp4,
    });
    expect(res.status).toBe(422);
    expect(res.body).toMatchObject({ error: 'CHECKSUM_MISMATCH' });
    expect(res.headers['upload-complete']).toBe('?1');
  });

  it('413 with Upload-Limit when the declared length or the content passes max-size', async () => {
    const declared = await send({
      method: 'POST',
      url: '/api/uploads',
      headers: { ...alice.auth, 'Upload-Complete': '?0', 'Upload-Length': '5000001' },
    });
    expect(declared.status).toBe(413);
    expect(declared.headers['upload-limit']).toMatch(/max-size=5000000/);

    const big = Buffer.concat([mp4, Buffer.alloc(5_000_001 - mp4.length, 1)]);
    let location = '';
    const streamed = await send({
      method: 'POST',
      url: '/api/uploads',
      headers: { ...alice.auth, 'Upload-Complete': '?0', 'Upload-Draft-Interop-Version': '8' },
      body: big,
      onInterim: (interim) => (location = String(interim.headers.location)),
    });
    expect(streamed.status).toBe(413);
    expect(streamed.headers['upload-limit']).toMatch(/max-size=5000000/);
    const id = idOf(location);
    expect(await mediaRecord(t, id)).toMatchObject({ status: 'failed' });
    expect(await assemblyKeys(t, `ietf/${id}`)).toEqual([]);
  });
});
