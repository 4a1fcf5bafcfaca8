import { readFile } from 'node:fs/promises';
import { mediaFixtures } from '../support/fixtures';
import { createTestApp, TestApp } from '../support/test-app';
import { registerUser, TestUser } from '../support/users';
import { mediaRecord } from '../media/support/stored-state';
import { idOf, ietfRequest, PARTIAL } from './support/ietf-client';

const PROBLEMS = 'https://iana.org/assignments/http-problem-types#';

describe('IETF resumable uploads at /api/uploads: protocol', () => {
  let t: TestApp;
  let alice: TestUser;
  let bob: TestUser;
  let mp4: Buffer;

  beforeAll(async () => {
    t = await createTestApp({
      env: {
        MAX_RESUMABLE_BYTES: '5000000',
        MIN_RESUMABLE_APPEND_BYTES: '64',
        UPLOAD_EXPIRY: '3600',
        CORS_ORIGINS: 'https://app.example',
      },
    });
    [alice, bob] = await Promise.all([registerUser(t.url, 'alice'), registerUser(t.url, 'bob')]);
    mp4 = await readFile((await mediaFixtures()).mp4);
  });

  afterAll(() => t.close());

  const send = (options: Parameters<typeof ietfRequest>[1]) => ietfRequest(t.url, options);
  const careful = async (headers: Record<string, string> = {}) => {
    const res = await send({
      method: 'POST',
      url: '/api/uploads',
      headers: { ...alice.auth, 'Upload-Complete': '?0', 'X-File-Type': 'video', ...headers },
    });
    expect(res.status).toBe(201);
    return idOf(res.headers.location);
  };
  const patch = (id: string, offset: number, body: Buffer, headers: Record<string, string> = {}) =>
    send({
      method: 'PATCH',
      url: `/api/uploads/${id}`,
      headers: {
        ...alice.auth,
        ...PARTIAL,
        'Upload-Offset': String(offset),
        'Upload-Complete': '?0',
        ...headers,
      },
      body,
    });

  it('OPTIONS announces Accept-Patch and the limits, without a token', async () => {
    const res = await send({ method: 'OPTIONS', url: '/api/uploads' });
    expect(res.status).toBe(204);
    expect(res.headers['accept-patch']).toBe('application/partial-upload');
    expect(res.headers['upload-limit']).toBe('max-size=5000000, min-append-size=64, max-age=3600');
  });

  it('sends one 104 with Location and Upload-Limit for interop version 8 only, after the 100 Continue', async () => {
    const v8 = await send({
      method: 'POST',
      url: '/api/uploads',
      headers: {
        ...alice.auth,
        'Upload-Complete': '?0',
        'Upload-Draft-Interop-Version': '8',
        Expect: '100-continue',
      },
      body: mp4.subarray(0, 100),
    });
    expect(v8.status).toBe(201);
    expect(v8.continued).toBe(true);
    expect(v8.interims).toHaveLength(1);
    const [interim] = v8.interims;
    expect(interim.status).toBe(104);
    expect(interim.statusMessage).toBe('Upload Resumption Supported');
    expect(interim.headers.location).toBe(v8.headers.location);
    expect(interim.headers['upload-limit']).toBe('max-size=5000000, min-append-size=64, max-age=3600');
    expect(interim.headers['upload-draft-interop-version']).toBe('8');

    const none = await send({
      method: 'POST',
      url: '/api/uploads',
      headers: { ...alice.auth, 'Upload-Complete': '?0' },
    });
    expect(none.status).toBe(201);
    expect(none.interims).toEqual([]);

    for (const version of ['6', '5', 'x']) {
      const before = await t.connection.collection('media_uploads').countDocuments();
      const other = await send({
        method: 'POST',
        url: '/api/uploads',
        headers: { ...alice.auth, 'Upload-Complete': '?0', 'Upload-Draft-Interop-Version': version },
      });
      expect(other.status).toBe(400);
      expect(other.interims).toEqual([]);
      expect(other.body).toMatchObject({ error: 'UNSUPPORTED_INTEROP_VERSION' });
      expect(String(other.body?.message)).toContain('interop version 8');
      expect(await t.connection.collection('media_uploads').countDocuments()).toBe(before);
    }
  });

  it('a creation without a valid Upload-Complete is a 400 and creates nothing', async () => {
    for (const value of [undefined, 'yes', '1']) {
      const res = await send({
        method: 'POST',
        url: '/api/uploads',
        headers: { ...alice.auth, ...(value ? { 'Upload-Complete': value } : {}) },
      });
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ error: 'BAD_REQUEST' });
    }
  });

  it('a wrong Upload-Offset answers 409 with the right offset and the mismatching-upload-offset problem', async () => {
    const id = await careful();
    expect((await patch(id, 0, mp4.subarray(0, 1000))).status).toBe(204);
    const res = await patch(id, 500, mp4.subarray(500, 1500));
    expect(res.status).toBe(409);
    expect(res.headers['upload-offset']).toBe('1000');
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.body).toMatchObject({
      success: false,
      error: 'UPLOAD_OFFSET_CONFLICT',
      type: `${PROBLEMS}mismatching-upload-offset`,
      title: expect.any(String),
      'expected-offset': 1000,
      'provided-offset': 500,
    });
    // Nothing was appended.
    const state = await send({ method: 'HEAD', url: `/api/uploads/${id}`, headers: alice.auth });
    expect(state.headers['upload-offset']).toBe('1000');
  });

  it('lengths that disagree answer 400 inconsistent-upload-length', async () => {
    const creation = await send({
      method: 'POST',
      url: '/api/uploads',
      headers: { ...alice.auth, 'Upload-Complete': '?1', 'Upload-Length': '10', 'X-File-Type': 'video' },
      body: mp4.subarray(0, 20),
    });
    expect(creation.status).toBe(400);
    expect(creation.body).toMatchObject({ type: `${PROBLEMS}inconsistent-upload-length` });

    const id = await careful({ 'Upload-Length': String(mp4.length) });
    const append = await patch(id, 0, mp4.subarray(0, 100), { 'Upload-Length': String(mp4.length + 1) });
    expect(append.status).toBe(400);
    expect(append.body).toMatchObject({ error: 'INCONSISTENT_UPLOAD_LENGTH' });
    const past = await patch(id, 0, Buffer.concat([mp4, Buffer.alloc(10)]));
    expect(past.status).toBe(400);
    expect(past.body).toMatchObject({ type: `${PROBLEMS}inconsistent-upload-length` });
  });

  it('appending to a completed upload answers 400 completed-upload', async () => {
    const id = await careful();
    const done = await patch(id, 0, mp4, { 'Upload-Complete': '?1' });
    expect(done.status).toBe(201);
    for (const body of [Buffer.alloc(0), Buffer.from('more')]) {
      const res = await patch(id, mp4.length, body, { 'Upload-Complete': '?1' });
      expect(res.status).toBe(400);
      expect(res.headers['upload-complete']).toBe('?1');
      expect(res.body).toMatchObject({ error: 'UPLOAD_COMPLETED', type: `${PROBLEMS}completed-upload` });
    }
    expect((await mediaRecord(t, id))?.fileSize).toBe(mp4.length);
  });

  it('an append that does not complete the upload and carries less than min-append-size is a 400 with Upload-Limit', async () => {
    const id = await careful();
    const small = await patch(id, 0, mp4.subarray(0, 63));
    expect(small.status).toBe(400);
    expect(small.body).toMatchObject({ error: 'APPEND_TOO_SMALL' });
    expect(small.headers['upload-limit']).toBe('max-size=5000000, min-append-size=64, max-age=3600');
    const empty = await patch(id, 0, Buffer.alloc(0));
    expect(empty.status).toBe(400);
    const state = await send({ method: 'HEAD', url: `/api/uploads/${id}`, headers: alice.auth });
    expect(state.headers['upload-offset']).toBe('0');

    // A creation with content is held to it too; one without (careful creation) and a completing append are not.
    const creation = await send({
      method: 'POST',
      url: '/api/uploads',
      headers: { ...alice.auth, 'Upload-Complete': '?0', 'X-File-Type': 'video' },
      body: mp4.subarray(0, 10),
    });
    expect(creation.status).toBe(400);
    expect(creation.body).toMatchObject({ error: 'APPEND_TOO_SMALL' });
    expect((await patch(id, 0, mp4.subarray(0, 64))).status).toBe(204);
    const last = await patch(id, 64, mp4.subarray(64), { 'Upload-Complete': '?1' });
    expect(last.status).toBe(201);
    expect(last.body).toMatchObject({ fileSize: mp4.length });
  });

  it('a PATCH that is not application/partial-upload is a 415 and changes nothing', async () => {
    const id = await careful();
    const res = await patch(id, 0, mp4.subarray(0, 100), {
      'Content-Type': 'application/offset+octet-stream',
    });
    expect(res.status).toBe(415);
    const state = await send({ method: 'HEAD', url: `/api/uploads/${id}`, headers: alice.auth });
    expect(state.headers['upload-offset']).toBe('0');
  });

  it("another user's upload answers 404 on HEAD, PATCH and DELETE, exactly like a missing one", async () => {
    const id = await careful();
    const missing = 'AAAAAAAAAAAAAAAAAAAAAA';
    for (const target of [id, missing]) {
      const asBob = { ...bob.auth, ...PARTIAL, 'Upload-Offset': '0', 'Upload-Complete': '?0' };
      const head = await send({ method: 'HEAD', url: `/api/uploads/${target}`, headers: bob.auth });
      const append = await send({
        method: 'PATCH',
        url: `/api/uploads/${target}`,
        headers: asBob,
        body: mp4,
      });
      const remove = await send({ method: 'DELETE', url: `/api/uploads/${target}`, headers: bob.auth });
      expect([head.status, append.status, remove.status]).toEqual([404, 404, 404]);
      expect(append.body).toMatchObject({ error: 'NOT_FOUND', message: 'Upload not found' });
      expect(remove.body).toEqual({ ...append.body, requestId: remove.body?.requestId });
    }
    expect(await mediaRecord(t, id)).toMatchObject({ status: 'uploading' });
    const state = await send({ method: 'HEAD', url: `/api/uploads/${id}`, headers: alice.auth });
    expect(state.headers['upload-offset']).toBe('0');
  });

  it('a browser on an allowed origin may send the draft headers and read the answers', async () => {
    const preflight = await send({
      method: 'OPTIONS',
      url: '/api/uploads/abcdefghijklmnop',
      headers: {
        Origin: 'https://app.example',
        'Access-Control-Request-Method': 'PATCH',
        'Access-Control-Request-Headers': 'authorization,upload-offset,upload-complete,content-type',
      },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers['access-control-allow-origin']).toBe('https://app.example');
    expect(preflight.headers['access-control-allow-headers']).toMatch(/upload-offset/i);

    const created = await send({
      method: 'POST',
      url: '/api/uploads',
      headers: { ...alice.auth, Origin: 'https://app.example', 'Upload-Complete': '?0' },
    });
    expect(created.status).toBe(201);
    const exposed = String(created.headers['access-control-expose-headers']);
    for (const name of ['Location', 'Upload-Offset', 'Upload-Complete', 'Upload-Limit', 'X-Request-Id']) {
      expect(exposed).toContain(name);
    }
    const conflict = await send({
      method: 'PATCH',
      url: `/api/uploads/${idOf(created.headers.location)}`,
      headers: {
        ...alice.auth,
        ...PARTIAL,
        Origin: 'https://app.example',
        'Upload-Offset': '9',
        'Upload-Complete': '?0',
      },
      body: mp4.subarray(0, 64),
    });
    expect(conflict.status).toBe(409);
    expect(String(conflict.headers['access-control-expose-headers'])).toContain('Upload-Offset');
  });

  it('every route but OPTIONS needs a token', async () => {
    const res = await send({ method: 'POST', url: '/api/uploads', headers: { 'Upload-Complete': '?0' } });
    expect(res.status).toBe(401);
  });
});
