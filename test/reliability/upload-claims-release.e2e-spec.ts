import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { postChunk, sha256 } from '../chunk/seed-support';
import { createTusUpload, OCTETS, TUS } from '../chunk/tus-support';
import { InProcessUploadLocks, UploadLocks } from '../../src/coordination';
import { QuotaLedger } from '../../src/quota';
import { uploadLockKey } from '../../src/upload-core';
import { startUpload, upload, videoParts } from '../media/support/multipart-upload';
import { largeMp4Like, mediaFixtures } from '../support/fixtures';
import { createTestApp, TestApp } from '../support/test-app';
import { registerUser, TestUser } from '../support/users';
import { eventually } from './support/fault-support';

const KiB = 1024;

/**
 * Every protocol claims its upload through UploadClaims; whatever way a request ends (stored, refused, cancelled,
 * cut off, refused a busy id), the quota it held and the upload's lease are let go of, and nothing else's is.
 */
describe('Upload claims: every path lets go of the quota and the lease', () => {
  let t: TestApp;
  let user: TestUser;
  let video: string;
  let jpeg: Buffer;
  let webm: Buffer;
  let work: string;

  beforeAll(async () => {
    t = await createTestApp({ env: { USER_QUOTA_BYTES: String(8 * 1024 * KiB) } });
    user = await registerUser(t.url, 'claims');
    const fixtures = await mediaFixtures();
    jpeg = await readFile(fixtures.jpeg);
    webm = await readFile(fixtures.webm);
    work = await mkdtemp(join(tmpdir(), 'claims-'));
    video = await largeMp4Like(work, 2 * 1024 * KiB);
  });
  afterAll(async () => {
    await t.close();
    await rm(work, { recursive: true, force: true });
  });

  const held = () => t.app.get(QuotaLedger).held(user.id);
  const leased = (uploadId: string) =>
    t.app.get<InProcessUploadLocks>(UploadLocks).isHeld(uploadLockKey(user.id, uploadId));
  const released = (uploadId: string) =>
    eventually(async () => (await held()) === 0 && !leased(uploadId), `the claim of ${uploadId} released`);
  const photo = (data: Buffer, fileType = 'photo') => [
    { name: 'fileType', value: fileType },
    { name: 'file', filename: 'still.jpg', data },
  ];

  it('multipart: stored, refused by type, refused by checksum, refused by quota', async () => {
    const stored = await upload(t.url, {
      headers: { ...user.auth, 'X-Upload-Id': 'claim-ok-0001' },
      parts: photo(jpeg),
    });
    expect(stored.status).toBe(201);
    await released('claim-ok-0001');

    const wrongType = await upload(t.url, {
      headers: { ...user.auth, 'X-Upload-Id': 'claim-type-001' },
      parts: photo(webm),
    });
    expect(wrongType.status).toBe(415);
    await released('claim-type-001');

    const wrongSum = await upload(t.url, {
      headers: { ...user.auth, 'X-Upload-Id': 'claim-sum-0001', 'X-Content-SHA256': '0'.repeat(64) },
      parts: photo(jpeg),
    });
    expect(wrongSum.status).toBe(422);
    await released('claim-sum-0001');

    const tooBig = await upload(t.url, {
      headers: { ...user.auth, 'X-Upload-Id': 'claim-quota-01' },
      parts: photo(jpeg),
      declaredLength: 9 * 1024 * KiB,
    });
    expect(tooBig.status).toBe(413);
    expect(tooBig.body.error).toBe('QUOTA_EXCEEDED');
    await released('claim-quota-01');
  });

  it('multipart: a second request of an id in flight gets 409 and leaves the first its lease; cancel releases it', async () => {
    const first = startUpload(t.url, {
      headers: { ...user.auth, 'X-Upload-Id': 'claim-busy-001' },
      parts: videoParts(video),
      pauseAt: 256 * KiB,
    });
    await first.paused;
    // The request is claimed once the server has read its headers, which may come after the client paused.
    await eventually(() => leased('claim-busy-001'), 'the first request to claim its upload');
    const second = await upload(t.url, {
      headers: { ...user.auth, 'X-Upload-Id': 'claim-busy-001' },
      parts: photo(jpeg),
    });
    expect(second.status).toBe(409);
    expect(second.body.error).toBe('UPLOAD_ID_TAKEN');
    expect(leased('claim-busy-001')).toBe(true);
    expect(await held()).toBeGreaterThan(0);

    const cancel = await request(t.url).post('/api/upload/cancel/claim-busy-001').set(user.auth);
    expect(cancel.body.status).toBe('cancelled');
    first.release();
    await first.result;
    await released('claim-busy-001');
  });

  it('multipart: a client that drops its connection mid-file', async () => {
    const running = startUpload(t.url, {
      headers: { ...user.auth, 'X-Upload-Id': 'claim-drop-001' },
      parts: videoParts(video),
      pauseAt: 256 * KiB,
    });
    await running.paused;
    await eventually(() => leased('claim-drop-001'), 'the request to claim its upload');
    running.abort();
    await running.result;
    await released('claim-drop-001');
  });

  it('seed chunks: streaming into a session, committing, finalising', async () => {
    const fileId = `claims-seed-${Date.now()}`;
    const [a, b] = [webm.subarray(0, webm.length >> 1), webm.subarray(webm.length >> 1)];
    const fields = { fileId, totalChunks: 2, fileType: 'video' };
    const first = await postChunk(t.url, user.token, { ...fields, chunkIndex: 0, status: 'uploading' }, a);
    expect(first.status).toBe(200);
    const uploadId = String(first.body.data.uploadId);
    await released(uploadId);
    const last = await postChunk(t.url, user.token, { ...fields, chunkIndex: 1, status: 'completed' }, b);
    expect(last.status).toBe(200);
    expect(last.body.data.checksumSha256).toBe(sha256(webm));
    await released(uploadId);
  });

  it('tus: the finish releases the tus lock (the next PATCH is answered at once) and the quota', async () => {
    const id = await createTusUpload(t.url, user.auth, webm.length);
    await request(t.url)
      .patch(`/api/tus/${id}`)
      .set({ ...user.auth, ...TUS, ...OCTETS, 'Upload-Offset': '0' })
      .send(webm)
      .expect(204);
    const again = await request(t.url)
      .patch(`/api/tus/${id}`)
      .set({ ...user.auth, ...TUS, ...OCTETS, 'Upload-Offset': String(webm.length) })
      .timeout(5000)
      .send(Buffer.alloc(0));
    expect(again.status).toBe(204);
    await released(id);
  });
});
