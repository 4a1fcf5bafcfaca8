import { readFile } from 'node:fs/promises';
import request from 'supertest';
import type { S3ObjectStore } from '../../src/storage/s3';
import { upload } from '../media/support/multipart-upload';
import { mediaFixtures } from '../support/fixtures';
import { s3AppEnv } from '../support/s3-app';
import { createTestApp, TestApp } from '../support/test-app';
import { registerUser, TestUser } from '../support/users';
import { S3_SETUP_TIMEOUT_MS, TestS3 } from './s3-test-server';

/** S3_DOWNLOAD_MODE=redirect: the content GET hands the download to S3 with a presigned URL. */
describe('STORAGE_DRIVER=s3 with S3_DOWNLOAD_MODE=redirect (real versitygw)', () => {
  let s3: TestS3;
  let store: S3ObjectStore;
  let t: TestApp;
  let alice: TestUser;
  let bob: TestUser;
  let mp4: Buffer;
  let uploadId: string;

  beforeAll(async () => {
    s3 = await TestS3.start();
    store = await s3.store();
    t = await createTestApp({ env: { ...s3AppEnv(s3, store.bucket), S3_DOWNLOAD_MODE: 'redirect' } });
    [alice, bob] = await Promise.all([registerUser(t.url, 'alice'), registerUser(t.url, 'bob')]);
    mp4 = await readFile((await mediaFixtures()).mp4);
    const res = await upload(t.url, {
      parts: [
        { name: 'fileType', value: 'video' },
        { name: 'file', filename: 'holiday clip.mp4', contentType: 'video/mp4', data: mp4 },
      ],
      headers: alice.auth,
    });
    expect(res.status).toBe(201);
    uploadId = (res.body as { uploadId: string }).uploadId;
  }, S3_SETUP_TIMEOUT_MS);

  afterAll(async () => {
    await t?.close();
    await s3?.stop();
  });

  const content = (id: string) => `/api/media/${id}/content`;

  /** GETs the Location as a browser does after a cross-origin redirect: no Authorization header. */
  async function follow(location: string, headers: Record<string, string> = {}) {
    const res = await fetch(location, { headers });
    return { res, body: Buffer.from(await res.arrayBuffer()) };
  }

  it('answers 302 to a presigned S3 URL that serves the same bytes with the detected type and name', async () => {
    const res = await request(t.url).get(content(uploadId)).set(alice.auth).redirects(0);
    expect(res.status).toBe(302);
    expect(res.headers['cache-control']).toBe('no-store');
    const location = res.headers.location;
    expect(
      location.startsWith(`${s3.server.endpoint}/${store.bucket}/media/${alice.id}/${uploadId}.mp4?`),
    ).toBe(true);
    expect(location).toContain('X-Amz-Signature=');

    const { res: got, body } = await follow(location);
    expect(got.status).toBe(200);
    expect(got.headers.get('content-type')).toBe('video/mp4');
    expect(got.headers.get('content-disposition')).toBe(
      `inline; filename="holiday clip.mp4"; filename*=UTF-8''holiday%20clip.mp4`,
    );
    expect(body.equals(mp4)).toBe(true);
  });

  it('lets S3 answer byte ranges on the presigned URL', async () => {
    const res = await request(t.url).get(content(uploadId)).set(alice.auth).redirects(0).expect(302);
    const { res: got, body } = await follow(res.headers.location, { Range: 'bytes=10-99' });
    expect(got.status).toBe(206);
    expect(body.equals(mp4.subarray(10, 100))).toBe(true);
  });

  it('redirects a signed link too', async () => {
    const signed = await request(t.url).post(`/api/media/${uploadId}/signed-url`).set(alice.auth).expect(201);
    const res = await request(t.url).get(signed.body.url).redirects(0);
    expect(res.status).toBe(302);
    expect((await follow(res.headers.location)).body.equals(mp4)).toBe(true);
  });

  it("still answers 404 for another user's upload, with no Location", async () => {
    const other = await request(t.url).get(content(uploadId)).set(bob.auth).redirects(0);
    expect(other.status).toBe(404);
    expect(other.body).toMatchObject({ error: 'NOT_FOUND' });
    expect(other.headers.location).toBeUndefined();
  });

  it('answers HEAD itself (a presigned GET cannot be HEADed): headers, no redirect', async () => {
    const res = await request(t.url).head(content(uploadId)).set(alice.auth).redirects(0);
    expect(res.status).toBe(200);
    expect(res.headers).toMatchObject({ 'content-type': 'video/mp4', 'content-length': String(mp4.length) });
    expect(res.headers.location).toBeUndefined();
  });

  it('answers 404 itself, not a redirect to a missing object, when the bytes are gone from the bucket', async () => {
    await store.delete(`media/${alice.id}/${uploadId}.mp4`);
    const res = await request(t.url).get(content(uploadId)).set(alice.auth).redirects(0);
    expect(res.status).toBe(404);
    expect(res.headers.location).toBeUndefined();
  });
});
