import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import http from 'node:http';
import request from 'supertest';
import { EnvironmentVariables } from '../../src/config/env.schema';
import type { S3ObjectStore } from '../../src/storage/s3';
import { createTusUpload, OCTETS, runTusClient, sha256File, TUS } from '../chunk/tus-support';
import { largeMp4Like } from '../support/fixtures';
import { s3AppEnv } from '../support/s3-app';
import { createTestApp, TestApp } from '../support/test-app';
import { registerUser, TestUser } from '../support/users';
import { S3_SETUP_TIMEOUT_MS, TestS3 } from './s3-test-server';
import { objectSha256, startCutProxy, tusLeftovers, tusPieces } from './tus-s3-support';
import { processingSettled } from '../support/processing';
import { waitFor } from '../media/support/stored-state';

const MiB = 1024 * 1024;
const SIZE = 20 * MiB + 17;
/** The app's S3_PART_SIZE (the default): a PATCH body is stored as pieces of this size. */
const PART = new EnvironmentVariables().S3_PART_SIZE;
const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');
const checksum = (data: Buffer) => `sha256 ${createHash('sha256').update(data).digest('base64')}`;

/** tus on STORAGE_DRIVER=s3 (S3TusStore over the S3 assembly) against a real versitygw, on a bucket of its own. */
describe('tus on S3 (real versitygw)', () => {
  let s3: TestS3;
  let store: S3ObjectStore;
  let t: TestApp;
  let alice: TestUser;
  let dir: string;
  let video: string;
  let expected: string;

  const head = (id: string) =>
    request(t.url)
      .head(`/api/tus/${id}`)
      .set({ ...alice.auth, ...TUS });
  const patch = (id: string, offset: number, body: Buffer) =>
    request(t.url)
      .patch(`/api/tus/${id}`)
      .set({ ...alice.auth, ...TUS, ...OCTETS, 'Upload-Offset': String(offset) })
      .send(body);
  const record = (id: string) => t.connection.collection('media_uploads').findOne({ uploadId: id });

  /** The upload completed with the file's SHA-256, stored as the only object left of it in the bucket. */
  async function expectStoredWhole(id: string): Promise<void> {
    const stored = await record(id);
    expect(stored).toMatchObject({ status: 'completed', fileSize: SIZE, checksumSha256: expected });
    expect(await objectSha256(store, String(stored?.storageKey))).toBe(expected);
    expect(await tusLeftovers(store, id)).toEqual({ keys: [], uploads: [] });
    expect((await head(id).expect(200)).headers['upload-offset']).toBe(String(SIZE));
  }

  beforeAll(async () => {
    s3 = await TestS3.start();
    store = await s3.store();
    t = await createTestApp({
      env: { ...s3AppEnv(s3, store.bucket), MAX_RESUMABLE_BYTES: String(64 * MiB) },
    });
    alice = await registerUser(t.url, 'alice');
    dir = await mkdtemp(join(tmpdir(), 'tus-s3-'));
    video = await largeMp4Like(dir, SIZE);
    expected = await sha256File(video);
  }, S3_SETUP_TIMEOUT_MS);
  afterAll(async () => {
    await t?.close();
    await s3?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('tus-js-client uploads a 20 MiB video in 1 MiB chunks: identical SHA-256 and bytes, nothing else left', async () => {
    const url = await runTusClient({
      file: createReadStream(video),
      endpoint: `${t.url}/api/tus`,
      headers: alice.auth,
      chunkSize: MiB,
      retryDelays: [],
      metadata: { filename: 'big.mp4', fileType: 'video' },
    });
    await expectStoredWhole(url.split('/').pop() as string);
  }, 120_000);

  it('tus-js-client in 6 MiB chunks resumes after a PATCH breaks off mid-way (HEAD, then the rest), SHA-256 intact', async () => {
    // The third PATCH (12-18 MiB) breaks off after 3 MiB, once 16 MiB would be in a part.
    const proxy = await startCutProxy(t.url, { patch: 3, afterBytes: 3 * MiB });
    const methods: string[] = [];
    let resumedAt: number | undefined;
    try {
      const url = await runTusClient({
        file: createReadStream(video),
        endpoint: `${proxy.url}/api/tus`,
        headers: alice.auth,
        chunkSize: 6 * MiB,
        retryDelays: [0, 200, 500],
        metadata: { filename: 'big.mp4', fileType: 'video' },
        onBeforeRequest: (req) => void methods.push(req.getMethod()),
        onAfterResponse: (req, res) => {
          if (req.getMethod() === 'HEAD') resumedAt = Number(res.getHeader('Upload-Offset'));
        },
      });
      expect(proxy.cut).toBe(1);
      expect(resumedAt).toBeGreaterThanOrEqual(12 * MiB);
      expect(resumedAt).toBeLessThanOrEqual(15 * MiB);
      // The bytes that arrived before the break may be kept (tus allows it): HEAD says where to go on.
      expect(methods.slice(0, 5)).toEqual(['POST', 'PATCH', 'PATCH', 'PATCH', 'HEAD']);
      expect(methods.slice(5)).toContain('PATCH');
      await expectStoredWhole(url.split('/').pop() as string);
    } finally {
      await proxy.close();
    }
  }, 120_000);

  it('one whole-file PATCH reset after 2.5 parts: HEAD answers at least its 2 whole parts, tus-js-client sends the rest', async () => {
    const id = await createTusUpload(t.url, alice.auth, SIZE);
    // A phone on a dying network: 2.5 parts of the body, then nothing, then the connection is reset.
    const sent = 2.5 * PART;
    const patch = http.request(`${t.url}/api/tus/${id}`, {
      method: 'PATCH',
      headers: { ...alice.auth, ...TUS, ...OCTETS, 'Upload-Offset': '0', 'Content-Length': String(SIZE) },
    });
    patch.on('error', () => undefined);
    patch.write((await readFile(video)).subarray(0, sent));
    const twoPieces = `0:${PART},${PART}:${PART}`;
    await waitFor(async () => (await tusPieces(store, id)).join() === twoPieces, 'two whole pieces', 30_000);
    patch.socket?.resetAndDestroy();
    patch.destroy();

    const methods: string[] = [];
    let resumedAt: number | undefined;
    await runTusClient({
      file: createReadStream(video),
      uploadUrl: `${t.url}/api/tus/${id}`,
      endpoint: `${t.url}/api/tus`,
      headers: alice.auth,
      chunkSize: 64 * MiB,
      retryDelays: [],
      onBeforeRequest: (req) => void methods.push(req.getMethod()),
      onAfterResponse: (req, res) => {
        if (req.getMethod() === 'HEAD') resumedAt = Number(res.getHeader('Upload-Offset'));
      },
    });
    process.stdout.write(`[tus s3] PATCH reset after ${sent} bytes: resumed at ${resumedAt}\n`);
    // The pieces stored are kept whatever happens next; @tus/server ends the body of a reset request rather than
    // failing it, so what arrived after them is kept too.
    expect(resumedAt).toBeGreaterThanOrEqual(2 * PART);
    expect(resumedAt).toBeLessThanOrEqual(sent);
    expect(methods).toEqual(['HEAD', 'PATCH']);
    await expectStoredWhole(id);
  }, 120_000);

  it('refuses a chunk whose Upload-Checksum fails with 460 after a part was sent, and leaves the offset unchanged', async () => {
    const file = await readFile(video);
    const id = await createTusUpload(t.url, alice.auth, SIZE);
    const first = file.subarray(0, 9 * MiB);
    await patch(id, 0, first).set('Upload-Checksum', checksum(first)).expect(204);

    // The next write sends the first 8 MiB (a whole piece) as a part; its own bytes, refused, must not stay.
    const second = file.subarray(9 * MiB, 13 * MiB);
    const bad = await patch(id, 9 * MiB, second).set('Upload-Checksum', checksum(Buffer.from('other')));
    expect(bad.status).toBe(460);
    expect(bad.body).toMatchObject({ statusCode: 460, error: 'CHECKSUM_MISMATCH' });
    expect((await head(id).expect(200)).headers['upload-offset']).toBe(String(9 * MiB));

    // The same offset takes the right bytes; the rest completes the upload.
    const rest = file.subarray(9 * MiB);
    await patch(id, 9 * MiB, rest)
      .set('Upload-Checksum', checksum(rest))
      .expect(204);
    expect(sha256(file)).toBe(expected);
    await expectStoredWhole(id);
  }, 120_000);

  it('termination (DELETE) leaves no object and no multipart upload in the bucket', async () => {
    const file = await readFile(video);
    const id = await createTusUpload(t.url, alice.auth, SIZE);
    await patch(id, 0, file.subarray(0, 9 * MiB)).expect(204);
    await patch(id, 9 * MiB, file.subarray(9 * MiB, 10 * MiB)).expect(204); // sends the first 8 MiB as a part
    expect((await head(id).expect(200)).headers['upload-offset']).toBe(String(10 * MiB));
    expect((await tusLeftovers(store, id)).uploads).toEqual([`tus/${id}`]);

    await request(t.url)
      .delete(`/api/tus/${id}`)
      .set({ ...alice.auth, ...TUS })
      .expect(204);
    expect(await record(id)).toMatchObject({ status: 'cancelled' });
    expect(await t.connection.collection('tus_uploads').findOne({ uploadId: id })).toBeNull();
    expect(await tusLeftovers(store, id)).toEqual({ keys: [], uploads: [] });
    await head(id).expect(410);
  }, 60_000);

  it('checks the content once the head has arrived across PATCHes (read back from S3): 415, nothing left', async () => {
    const id = await createTusUpload(t.url, alice.auth, 2 * MiB);
    await patch(id, 0, Buffer.from('plain text, not a video '.repeat(40))).expect(204); // < 4100 bytes: no verdict yet
    const res = await patch(id, 960, randomBytes(2 * MiB - 960));
    expect(res.status).toBe(415);
    expect(res.body).toMatchObject({ error: 'UNSUPPORTED_MEDIA_TYPE' });
    expect(await record(id)).toMatchObject({ status: 'failed' });
    expect(await tusLeftovers(store, id)).toEqual({ keys: [], uploads: [] });
  }, 60_000);

  it('leaves nothing in the bucket but the media objects of the completed uploads (and their derived files)', async () => {
    await processingSettled(t);
    const keys = (await store.list('')).map((object) => object.key);
    const finished = [`media/${alice.id}/`, `derived/${alice.id}/`];
    expect(keys.filter((key) => !finished.some((area) => key.startsWith(area)))).toEqual([]);
    expect(keys.filter((key) => key.startsWith('media/'))).toHaveLength(4);
    expect(await s3.incompleteUploads(store.bucket)).toBe(0);
  });
});
