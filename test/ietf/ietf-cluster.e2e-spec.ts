import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import request from 'supertest';
import { largeMp4Like } from '../support/fixtures';
import { assemblyKeys, storedSha256 } from '../support/stored-objects';
import { startTwoInstances, TwoInstances } from '../support/two-instances';
import { registerUser, TestUser } from '../support/users';
import { mediaRecord, progressRecord, waitFor } from '../media/support/stored-state';
import { idOf, ietfRequest, PARTIAL, sha256, trickle } from './support/ietf-client';

const MiB = 1024 * 1024;

describe('IETF resumable uploads across two instances (REDIS_URL)', () => {
  let cluster: TwoInstances;
  let alice: TestUser;
  let workDir: string;
  let video: Buffer;

  beforeAll(async () => {
    cluster = await startTwoInstances({ MAX_RESUMABLE_BYTES: String(20 * MiB) });
    alice = await registerUser(cluster.a.url, 'alice');
    workDir = await mkdtemp(join(tmpdir(), 'ietf-cluster-'));
    video = await readFile(await largeMp4Like(workDir, 3 * MiB + 11));
  });

  afterAll(async () => {
    await cluster.stop();
    await rm(workDir, { recursive: true, force: true });
  });

  const create = async (url: string) => {
    const res = await ietfRequest(url, {
      method: 'POST',
      url: '/api/uploads',
      headers: { ...alice.auth, 'Upload-Complete': '?0', 'X-File-Type': 'video' },
    });
    expect(res.status).toBe(201);
    return idOf(res.headers.location);
  };
  const bytesIn = (url: string, id: string, atLeast: number) =>
    waitFor(async () => {
      const res = await request(url).get(`/api/upload/progress/${id}`).set(alice.auth);
      return res.status === 200 && (res.body as { bytesUploaded: number }).bytesUploaded >= atLeast;
    }, `${atLeast} bytes of ${id}`);

  it('HEAD on instance B stops a PATCH running on A; B then finishes the upload with identical bytes', async () => {
    const { a, b } = cluster;
    const id = await create(a.url);
    const running = ietfRequest(a.url, {
      method: 'PATCH',
      url: `/api/uploads/${id}`,
      headers: { ...alice.auth, ...PARTIAL, 'Upload-Offset': '0', 'Upload-Complete': '?1' },
      body: trickle(video),
    });
    await bytesIn(a.url, id, 512 * 1024);
    const head = await ietfRequest(b.url, { method: 'HEAD', url: `/api/uploads/${id}`, headers: alice.auth });
    expect(head.status).toBe(204);
    const cut = await running;
    expect(cut.status).not.toBe(201);
    const offset = Number(head.headers['upload-offset']);
    expect(offset).toBeLessThan(video.length);

    const done = await ietfRequest(b.url, {
      method: 'PATCH',
      url: `/api/uploads/${id}`,
      headers: { ...alice.auth, ...PARTIAL, 'Upload-Offset': String(offset), 'Upload-Complete': '?1' },
      body: video.subarray(offset),
    });
    expect(done.status).toBe(201);
    expect(done.body).toMatchObject({ checksumSha256: sha256(video), fileSize: video.length });
    const record = await mediaRecord(a, id);
    expect(await storedSha256(a, String(record?.storageKey))).toBe(sha256(video));
  });

  it('DELETE on instance B cancels an upload streaming on A: bytes deleted, records cancelled', async () => {
    const { a, b } = cluster;
    const id = await create(a.url);
    const running = ietfRequest(a.url, {
      method: 'PATCH',
      url: `/api/uploads/${id}`,
      headers: { ...alice.auth, ...PARTIAL, 'Upload-Offset': '0', 'Upload-Complete': '?1' },
      body: trickle(video),
    });
    await bytesIn(a.url, id, 256 * 1024);
    const cancel = await ietfRequest(b.url, {
      method: 'DELETE',
      url: `/api/uploads/${id}`,
      headers: alice.auth,
    });
    expect(cancel.status).toBe(204);
    expect((await running).status).not.toBe(201);
    expect(await mediaRecord(a, id)).toMatchObject({ status: 'cancelled' });
    expect(await assemblyKeys(a, `ietf/${id}`)).toEqual([]);
    // A's progress of the cut request must not write `uploading` back over the end B recorded.
    await sleep(1500);
    expect(await progressRecord(a, id)).toMatchObject({ status: 'cancelled' });
    const view = await request(a.url).get(`/api/upload/progress/${id}`).set(alice.auth).expect(200);
    expect(view.body).toMatchObject({ status: 'cancelled' });
  });
});
