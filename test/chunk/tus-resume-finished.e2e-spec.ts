import { execFile } from 'node:child_process';
import { createReadStream, existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Types } from 'mongoose';
import request from 'supertest';
import { TusUploadsService } from '../../src/chunk/tus/tus-uploads.service';
import { QuotaService } from '../../src/quota/quota.service';
import { processingSettled } from '../support/processing';
import { largeMp4Like, mediaFixtures } from '../support/fixtures';
import { createTestApp, TestApp } from '../support/test-app';
import { registerUser, TestUser } from '../support/users';
import { startDropProxy } from './tus-drop-proxy';
import { createTusUpload, OCTETS, runTusClient, sha256File, TUS, tusMetadata } from './tus-support';

const run = promisify(execFile);
const ROOT = join(__dirname, '..', '..');
const TUSPY = join(ROOT, '.cache', 'tuspy-venv', 'bin', 'python');

describe('a finished tus upload, for a client whose last response was lost', () => {
  let t: TestApp;
  let alice: TestUser;
  let workDir: string;
  let mp4: Buffer;

  beforeAll(async () => {
    t = await createTestApp();
    alice = await registerUser(t.url, 'alice');
    workDir = await mkdtemp(join(tmpdir(), 'tus-finished-'));
    mp4 = await readFile((await mediaFixtures()).mp4);
    // tuspy lives in a venv that `npm test`'s pretest makes; a jest run without it makes it here.
    if (!existsSync(TUSPY)) await run('bash', [join(ROOT, 'scripts', 'ensure-test-deps.sh')]);
  }, 180_000);

  afterAll(async () => {
    await t.close();
    await rm(workDir, { recursive: true, force: true });
  });

  const head = (id: string, user: TestUser = alice) =>
    request(t.url)
      .head(`/api/tus/${id}`)
      .set({ ...user.auth, ...TUS });
  const patch = (id: string, offset: number, body: Buffer) =>
    request(t.url)
      .patch(`/api/tus/${id}`)
      .set({ ...alice.auth, ...TUS, ...OCTETS, 'Upload-Offset': String(offset) })
      .send(body);
  const records = (userId: string) =>
    t.connection
      .collection('media_uploads')
      .find({ userId: new Types.ObjectId(userId) })
      .toArray();
  const usage = (user: TestUser) => t.app.get(QuotaService).usage(user.id);

  async function finishedUpload(metadata: Record<string, string>): Promise<string> {
    const id = await createTusUpload(t.url, alice.auth, mp4.length, metadata);
    await patch(id, 0, mp4).expect(204);
    return id;
  }

  it('HEAD answers 200 with Upload-Offset = Upload-Length, the metadata and no-store, until the media are deleted', async () => {
    const metadata = { filename: 'clip.mp4', filetype: 'video/mp4', title: 'Clip' };
    const id = await finishedUpload(metadata);

    const res = await head(id).expect(200);
    expect(res.headers['upload-offset']).toBe(String(mp4.length));
    expect(res.headers['upload-length']).toBe(String(mp4.length));
    expect(res.headers['upload-metadata']).toBe(tusMetadata(metadata));
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.headers['tus-resumable']).toBe('1.0.0');
    await head(id, await registerUser(t.url, 'bob')).expect(404);

    await request(t.url).delete(`/api/media/${id}`).set(alice.auth).expect(200);
    await head(id).expect(404);
  });

  it('a PATCH at the full offset answers 204 with that offset and stores nothing; another offset is a 409, DELETE a 410', async () => {
    const id = await finishedUpload({ filename: 'clip.mp4' });
    await processingSettled(t);
    const before = await records(alice.id);

    const empty = await patch(id, mp4.length, Buffer.alloc(0)).expect(204);
    expect(empty.headers['upload-offset']).toBe(String(mp4.length));
    const resent = await patch(id, mp4.length, mp4.subarray(0, 1000)).expect(204);
    expect(resent.headers['upload-offset']).toBe(String(mp4.length));
    expect(await records(alice.id)).toEqual(before);

    const conflict = await patch(id, 0, mp4).expect(409);
    expect(conflict.body).toMatchObject({ success: false, error: 'UPLOAD_OFFSET_CONFLICT' });
    await request(t.url)
      .delete(`/api/tus/${id}`)
      .set({ ...alice.auth, ...TUS })
      .expect(410);
    expect(await records(alice.id)).toEqual(before);
  });

  it('an upload whose bytes were all stored but never finished (its instance died in between) is finished by the next HEAD', async () => {
    // What a crash right after the last PATCH stored its bytes leaves: the full offset stored, the record uploading.
    const finish = jest.spyOn(t.app.get(TusUploadsService), 'finish').mockResolvedValueOnce(undefined);
    const id = await finishedUpload({ filename: 'clip.mp4', fileType: 'video' });
    expect(finish).toHaveBeenCalledTimes(1);
    const status = () =>
      records(alice.id).then((all) => all.find((record) => record.uploadId === id)?.status);
    expect(await status()).toBe('uploading');

    const res = await head(id).expect(200);
    expect(res.headers['upload-offset']).toBe(String(mp4.length));
    expect(await status()).toBe('completed');
    const content = await request(t.url)
      .get(`/api/media/${id}/content`)
      .set(alice.auth)
      .buffer(true)
      .expect(200);
    expect((content.body as Buffer).equals(mp4)).toBe(true);
    // The next HEAD reads the completed upload; nothing is finished twice.
    expect((await head(id).expect(200)).headers['upload-offset']).toBe(String(mp4.length));
    expect((await records(alice.id)).filter((record) => record.uploadId === id)).toHaveLength(1);
  });

  it('cancelled uploads still answer HEAD and PATCH with 410', async () => {
    const id = await createTusUpload(t.url, alice.auth, mp4.length);
    await request(t.url).post(`/api/upload/cancel/${id}`).set(alice.auth).expect(200);
    await head(id).expect(410);
    await patch(id, 0, mp4).expect(410);
  });

  it('tus-js-client whose final 204 is lost resumes to success: one record, counted once against the quota', async () => {
    const carol = await registerUser(t.url, 'carol');
    const size = 1536 * 1024 + 77;
    const video = await largeMp4Like(workDir, size);
    const proxy = await startDropProxy(t.url, size);
    const methods: string[] = [];
    try {
      await runTusClient({
        file: createReadStream(video),
        uploadSize: size,
        endpoint: `${proxy.url}/api/tus`,
        headers: carol.auth,
        chunkSize: 512 * 1024,
        retryDelays: [0, 100, 300],
        metadata: { filename: 'clip.mp4', filetype: 'video/mp4' },
        onBeforeRequest: (req) => void methods.push(req.getMethod()),
      });
    } finally {
      await proxy.close();
    }

    expect(proxy.dropped).toBe(1);
    expect(methods.filter((method) => method === 'POST')).toHaveLength(1);
    expect(methods.at(-1)).toBe('HEAD'); // the retry asked where to resume, and found the upload finished
    const stored = await records(carol.id);
    expect(stored).toHaveLength(1);
    expect(stored[0]).toMatchObject({
      status: 'completed',
      fileSize: size,
      checksumSha256: await sha256File(video),
    });
    expect(await usage(carol)).toBe(size);
  });

  it('tuspy whose final response is lost retries to success with exactly one record', async () => {
    const dave = await registerUser(t.url, 'dave');
    const size = 1024 * 1024 + 5;
    const video = await largeMp4Like(workDir, size);
    const proxy = await startDropProxy(t.url, size);
    let output: string;
    try {
      ({ stdout: output } = await run(TUSPY, [
        join(__dirname, 'tuspy-upload.py'),
        `${proxy.url}/api/tus`,
        dave.token,
        video,
        String(256 * 1024),
      ]));
    } finally {
      await proxy.close();
    }

    expect(proxy.dropped).toBe(1);
    const result = JSON.parse(output) as { url: string; offset: number };
    expect(result.offset).toBe(size);
    const stored = await records(dave.id);
    expect(stored).toHaveLength(1);
    expect(stored[0]).toMatchObject({
      uploadId: result.url.split('/').pop(),
      status: 'completed',
      fileSize: size,
      checksumSha256: await sha256File(video),
    });
    expect(await usage(dave)).toBe(size);
  });
});
