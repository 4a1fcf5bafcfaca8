import { createReadStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import type { ClientRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import type { HttpRequest } from 'tus-js-client';
import { S3StorageDriver, StorageDriver } from '../../src/storage';
import { largeMp4Like } from '../support/fixtures';
import { storedNames, storedSha256 } from '../support/stored-objects';
import { createTestApp, TestApp } from '../support/test-app';
import { registerUser, TestUser } from '../support/users';
import { OCTETS, runTusClient, sha256File, TUS } from './tus-support';

const MiB = 1024 * 1024;
const listed = (body: { items: { uploadId: string }[] }) => body.items.map((item) => item.uploadId);

/** Counts the parts the S3 driver sends for tus keys while `counting()` is true: copied server-side, or streamed. */
function countS3Parts(t: TestApp, counting: () => boolean): { copied: number; streamedBytes: number } {
  const counts = { copied: 0, streamedBytes: 0 };
  const driver = t.app.get(StorageDriver);
  if (!(driver instanceof S3StorageDriver)) return counts;
  const store = driver.store;
  const uploadPart = store.uploadPart.bind(store);
  const uploadPartCopy = store.uploadPartCopy.bind(store);
  jest.spyOn(store, 'uploadPart').mockImplementation((ref, part, body, length, options) => {
    if (counting() && ref.key.startsWith('tus/')) counts.streamedBytes += length;
    return uploadPart(ref, part, body, length, options);
  });
  jest.spyOn(store, 'uploadPartCopy').mockImplementation((ref, part, source, range) => {
    if (counting() && ref.key.startsWith('tus/')) counts.copied += 1;
    return uploadPartCopy(ref, part, source, range);
  });
  return counts;
}

describe('tus concatenation with tus-js-client (parallelUploads)', () => {
  let t: TestApp;
  let alice: TestUser;
  let workDir: string;

  beforeAll(async () => {
    t = await createTestApp({ env: { PROGRESS_PERSIST_MS: '100' } });
    alice = await registerUser(t.url, 'alice');
    workDir = await mkdtemp(join(tmpdir(), 'tus-concat-'));
  });

  afterAll(async () => {
    jest.restoreAllMocks();
    await t.close();
    await rm(workDir, { recursive: true, force: true });
  });

  it('uploads a 100 MB video as 4 partial uploads, one interrupted mid-PATCH and resumed, joined into identical media', async () => {
    const size = 100 * MiB;
    const video = await largeMp4Like(workDir, size);
    const patches: HttpRequest[] = [];
    const methods: string[] = [];
    let finalSent = false;
    let finalAt = 0;
    let interrupted = false;
    const parts = countS3Parts(t, () => finalSent);

    const url = await runTusClient({
      file: createReadStream(video),
      endpoint: `${t.url}/api/tus`,
      headers: alice.auth,
      parallelUploads: 4,
      retryDelays: [0, 200, 500],
      metadata: { filename: 'parallel.mp4', filetype: 'video/mp4', fileType: 'video', title: 'Parallel' },
      onBeforeRequest: (req) => {
        methods.push(req.getMethod());
        if (req.getMethod() === 'PATCH') patches.push(req);
        if (req.getMethod() === 'POST' && req.getHeader('Upload-Concat')?.startsWith('final;')) {
          finalSent = true;
          finalAt = Date.now();
        }
      },
      onProgress: (sent) => {
        // Cut one partial upload's PATCH once, while its bytes are flowing; its upload resumes (HEAD, PATCH).
        if (!interrupted && sent > 20 * MiB && patches.length === 4) {
          interrupted = true;
          (patches[1].getUnderlyingObject() as ClientRequest).destroy(new Error('forced interruption'));
        }
      },
    });

    const finalMs = Date.now() - finalAt;
    expect(interrupted).toBe(true);
    expect(methods.filter((method) => method === 'POST')).toHaveLength(5); // 4 partial uploads + the final one
    expect(methods).toContain('HEAD'); // the interrupted partial asked where to resume
    const partialIds = patches.map((req) => req.getURL().split('/').pop() as string);
    const id = url.split('/').pop() as string;
    const expected = await sha256File(video);
    const uploads = t.connection.collection('media_uploads');
    const record = await uploads.findOne({ uploadId: id });
    expect(record).toMatchObject({
      status: 'completed',
      source: 'tus',
      concat: 'final',
      fileSize: size,
      checksumSha256: expected,
      title: 'Parallel',
      originalName: 'parallel.mp4',
      mimeType: 'video/mp4',
    });
    expect(['pending', 'running', 'done']).toContain(record?.processing?.status);
    expect(await storedSha256(t, String(record?.storageKey))).toBe(expected);

    // The partial uploads are gone: bytes, tus info, progress and records.
    expect(await storedNames(t, 'tus')).toEqual([]);
    for (const partialId of new Set(partialIds)) {
      expect(await uploads.findOne({ uploadId: partialId })).toBeNull();
      expect(await t.connection.collection('tus_uploads').findOne({ uploadId: partialId })).toBeNull();
      expect(await t.connection.collection('upload_progress').findOne({ uploadId: partialId })).toBeNull();
    }
    process.stdout.write(
      `[tus concat] 100 MB from 4 partial uploads: final POST ${finalMs} ms (${t.bucket ? 's3' : 'local'}), ` +
        `parts copied server-side ${parts.copied}, bytes streamed ${parts.streamedBytes}\n`,
    );
    if (t.bucket) {
      // S3: the final upload's 25 MB pieces were copied server-side (UploadPartCopy), none streamed through here.
      expect(parts.copied).toBeGreaterThanOrEqual(4);
      expect(parts.streamedBytes).toBe(0);
    }

    const head = await request(t.url)
      .head(`/api/tus/${id}`)
      .set({ ...alice.auth, ...TUS })
      .expect(200);
    expect(head.headers['upload-concat']).toMatch(/^final;\S+ \S+ \S+ \S+$/);
    expect(head.headers['upload-length']).toBe(String(size));
    expect(head.headers['upload-offset']).toBe(String(size));
    await request(t.url)
      .patch(`/api/tus/${id}`)
      .set({ ...alice.auth, ...TUS, ...OCTETS, 'Upload-Offset': String(size) })
      .send(Buffer.alloc(0))
      .expect(403);

    const progress = await request(t.url).get(`/api/upload/progress/${id}`).set(alice.auth).expect(200);
    expect(progress.body).toMatchObject({ status: 'completed', percentComplete: 100 });
    const library = await request(t.url).get('/api/media').set(alice.auth).expect(200);
    expect(listed(library.body)).toEqual([id]);
  });
});
