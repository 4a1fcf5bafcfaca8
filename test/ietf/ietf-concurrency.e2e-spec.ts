import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { ExpirySweeper } from '../../src/sweeper/expiry-sweeper.service';
import { largeMp4Like } from '../support/fixtures';
import { assemblyKeys, storedSha256 } from '../support/stored-objects';
import { createTestApp, TestApp } from '../support/test-app';
import { registerUser, TestUser } from '../support/users';
import { mediaRecord, progressRecord, waitFor } from '../media/support/stored-state';
import { idOf, ietfRequest, IetfResponse, PARTIAL, sha256, trickle } from './support/ietf-client';

const MiB = 1024 * 1024;

describe('IETF resumable uploads at /api/uploads: concurrent requests, cancel and expiry', () => {
  let t: TestApp;
  let alice: TestUser;
  let workDir: string;
  let video: Buffer;

  beforeAll(async () => {
    t = await createTestApp({ env: { MAX_RESUMABLE_BYTES: String(20 * MiB) } });
    alice = await registerUser(t.url, 'alice');
    workDir = await mkdtemp(join(tmpdir(), 'ietf-concurrency-'));
    video = await readFile(await largeMp4Like(workDir, 3 * MiB + 77));
  });

  afterAll(async () => {
    await t.close();
    await rm(workDir, { recursive: true, force: true });
  });

  const send = (options: Parameters<typeof ietfRequest>[1]) => ietfRequest(t.url, options);
  const create = async () => {
    const res = await send({
      method: 'POST',
      url: '/api/uploads',
      headers: { ...alice.auth, 'Upload-Complete': '?0', 'X-File-Type': 'video' },
    });
    expect(res.status).toBe(201);
    return idOf(res.headers.location);
  };
  const streamingPatch = (id: string, offset: number, body: Buffer): Promise<IetfResponse> =>
    send({
      method: 'PATCH',
      url: `/api/uploads/${id}`,
      headers: { ...alice.auth, ...PARTIAL, 'Upload-Offset': String(offset), 'Upload-Complete': '?1' },
      body: trickle(body),
    });
  /** Waits until the server has taken bytes of the running request in (live progress, not a HEAD that would stop it). */
  const bytesIn = (id: string, atLeast: number) =>
    waitFor(async () => {
      const res = await request(t.url).get(`/api/upload/progress/${id}`).set(alice.auth);
      return res.status === 200 && (res.body as { bytesUploaded: number }).bytesUploaded >= atLeast;
    }, `${atLeast} bytes of ${id}`);

  it('DELETE while a PATCH streams: the PATCH is cut, the bytes deleted, the upload cancelled', async () => {
    const id = await create();
    const running = streamingPatch(id, 0, video);
    await bytesIn(id, 256 * 1024);
    const cancel = await send({ method: 'DELETE', url: `/api/uploads/${id}`, headers: alice.auth });
    expect(cancel.status).toBe(204);
    const cut = await running;
    expect(cut.status).not.toBe(201);
    expect(await mediaRecord(t, id)).toMatchObject({ status: 'cancelled' });
    expect(await progressRecord(t, id)).toMatchObject({ status: 'cancelled' });
    expect(await assemblyKeys(t, `ietf/${id}`)).toEqual([]);
    const after = await send({ method: 'HEAD', url: `/api/uploads/${id}`, headers: alice.auth });
    expect(after.status).toBe(410);
  });

  it('a second append supersedes a running one: it learns the offset, finishes, and the file is byte-identical', async () => {
    const id = await create();
    const first = streamingPatch(id, 0, video);
    await bytesIn(id, 512 * 1024);
    // A client that believes the first request failed sends again from 0; the first request is stopped.
    const second = await send({
      method: 'PATCH',
      url: `/api/uploads/${id}`,
      headers: { ...alice.auth, ...PARTIAL, 'Upload-Offset': '0', 'Upload-Complete': '?1' },
      body: video,
    });
    const superseded = await first;
    expect([0, 409]).toContain(superseded.status);
    if (superseded.status === 409) expect(superseded.body).toMatchObject({ error: 'UPLOAD_SUPERSEDED' });
    // Local disk keeps every byte the first request wrote; S3 only completed parts (5 MiB), so there it may be 0.
    if (!t.bucket) expect(second.status).toBe(409);
    let rest = second;
    if (second.status === 409) {
      const offset = Number(second.headers['upload-offset']);
      expect(second.body).toMatchObject({ 'expected-offset': offset, 'provided-offset': 0 });
      expect(offset).toBeLessThan(video.length);
      rest = await send({
        method: 'PATCH',
        url: `/api/uploads/${id}`,
        headers: { ...alice.auth, ...PARTIAL, 'Upload-Offset': String(offset), 'Upload-Complete': '?1' },
        body: video.subarray(offset),
      });
    }
    expect(rest.status).toBe(201);
    expect(rest.body).toMatchObject({ checksumSha256: sha256(video), fileSize: video.length });
    const record = await mediaRecord(t, id);
    expect(await storedSha256(t, String(record?.storageKey))).toBe(sha256(video));
  });

  it('HEAD during a running PATCH stops it first and answers the offset of what was stored', async () => {
    const id = await create();
    const running = streamingPatch(id, 0, video);
    await bytesIn(id, 256 * 1024);
    const state = await send({ method: 'HEAD', url: `/api/uploads/${id}`, headers: alice.auth });
    expect(state.status).toBe(204);
    await running;
    const again = await send({ method: 'HEAD', url: `/api/uploads/${id}`, headers: alice.auth });
    expect(again.headers['upload-offset']).toBe(state.headers['upload-offset']);
    await send({ method: 'DELETE', url: `/api/uploads/${id}`, headers: alice.auth });
  });

  it('the progress cancel route cancels a streaming upload: bytes deleted, records cancelled', async () => {
    const id = await create();
    const running = streamingPatch(id, 0, video);
    await bytesIn(id, 256 * 1024);
    const cancel = await request(t.url).post(`/api/upload/cancel/${id}`).set(alice.auth).expect(200);
    expect(cancel.body).toMatchObject({ status: 'cancelled', source: 'ietf' });
    const cut = await running;
    expect(cut.status).not.toBe(201);
    expect(await mediaRecord(t, id)).toMatchObject({ status: 'cancelled' });
    expect(await assemblyKeys(t, `ietf/${id}`)).toEqual([]);
    expect(await t.connection.collection('ietf_uploads').findOne({ _id: id as never })).toBeNull();
  });

  it('the expiry sweeper ends an abandoned upload: expired, bytes and state deleted', async () => {
    const id = await create();
    const part = await send({
      method: 'PATCH',
      url: `/api/uploads/${id}`,
      headers: { ...alice.auth, ...PARTIAL, 'Upload-Offset': '0', 'Upload-Complete': '?0' },
      body: video.subarray(0, MiB),
    });
    expect(part.status).toBe(204);
    const report = await t.app.get(ExpirySweeper).sweep(new Date(Date.now() + 48 * 3600 * 1000));
    expect(report.expired).toBeGreaterThanOrEqual(1);
    expect(await mediaRecord(t, id)).toMatchObject({ status: 'expired' });
    expect(await progressRecord(t, id)).toMatchObject({ status: 'expired' });
    expect(await assemblyKeys(t, `ietf/${id}`)).toEqual([]);
    expect(await t.connection.collection('ietf_uploads').findOne({ _id: id as never })).toBeNull();
  });
});
