import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { largeMp4Like } from '../support/fixtures';
import { assemblyKeys } from '../support/stored-objects';
import { createTestApp, TestApp } from '../support/test-app';
import { registerUser, TestUser } from '../support/users';
import { mediaRecord } from '../media/support/stored-state';
import { idOf, ietfRequest } from './support/ietf-client';

const KiB = 1024;

describe('IETF resumable uploads at /api/uploads: quota', () => {
  let t: TestApp;
  let alice: TestUser;
  let workDir: string;
  let video: Buffer;

  beforeAll(async () => {
    // A length is declared by an empty append below: min-append-size is ietf-protocol's subject.
    t = await createTestApp({
      env: { USER_QUOTA_BYTES: String(1000 * KiB), MIN_RESUMABLE_APPEND_BYTES: '0' },
    });
    alice = await registerUser(t.url, 'alice');
    workDir = await mkdtemp(join(tmpdir(), 'ietf-quota-'));
    video = await readFile(await largeMp4Like(workDir, 700 * KiB));
  });

  afterAll(async () => {
    await t.close();
    await rm(workDir, { recursive: true, force: true });
  });

  const send = (options: Parameters<typeof ietfRequest>[1]) => ietfRequest(t.url, options);
  const create = async (headers: Record<string, string> = {}) =>
    send({
      method: 'POST',
      url: '/api/uploads',
      headers: { ...alice.auth, 'Upload-Complete': '?0', 'X-File-Type': 'video', ...headers },
    });
  const append = (id: string, body: Buffer) =>
    send({
      method: 'PATCH',
      url: `/api/uploads/${id}`,
      headers: {
        ...alice.auth,
        'Content-Type': 'application/partial-upload',
        'Upload-Offset': '0',
        'Upload-Complete': '?0',
      },
      body,
    });

  it('a declared length over the quota is refused at creation, before anything exists', async () => {
    const before = await t.connection.collection('media_uploads').countDocuments();
    const res = await create({ 'Upload-Length': String(1001 * KiB) });
    expect(res.status).toBe(413);
    expect(res.body).toMatchObject({ error: 'QUOTA_EXCEEDED' });
    expect(await t.connection.collection('media_uploads').countDocuments()).toBe(before);
  });

  it("a deferred upload's stored bytes count against the quota; the next one is cut when it would not fit", async () => {
    const first = idOf((await create()).headers.location);
    expect((await append(first, video)).status).toBe(204);

    const second = idOf((await create()).headers.location);
    const refused = await append(second, video);
    expect(refused.status).toBe(413);
    expect(refused.body).toMatchObject({ error: 'QUOTA_EXCEEDED' });
    expect(await mediaRecord(t, second)).toMatchObject({ status: 'failed' });
    expect(await assemblyKeys(t, `ietf/${second}`)).toEqual([]);

    // Declaring a length now must fit beside what is stored: 700 KiB stored + 400 KiB more would not.
    const declare = await send({
      method: 'PATCH',
      url: `/api/uploads/${first}`,
      headers: {
        ...alice.auth,
        'Content-Type': 'application/partial-upload',
        'Upload-Offset': String(video.length),
        'Upload-Complete': '?0',
        'Upload-Length': String(1100 * KiB),
      },
      body: Buffer.alloc(0),
    });
    expect(declare.status).toBe(413);
    expect(declare.body).toMatchObject({ error: 'QUOTA_EXCEEDED' });
    expect(await mediaRecord(t, first)).toMatchObject({ status: 'uploading', expectedSize: null });
  });
});
