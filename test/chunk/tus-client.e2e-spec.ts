import { createReadStream } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import http, { ClientRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import request from 'supertest';
import type { HttpRequest } from 'tus-js-client';
import { largeMp4Like } from '../support/fixtures';
import { storedNames, storedSha256 } from '../support/stored-objects';
import { createTestApp, TestApp } from '../support/test-app';
import { registerUser, TestUser } from '../support/users';
import { createTusUpload, runTusClient, sha256File, TUS } from './tus-support';

/** Polls `check` every 50 ms until it returns a value, for at most `ms`. */
async function waitFor<T>(check: () => Promise<T | undefined>, ms = 10_000): Promise<T> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const value = await check();
    if (value !== undefined) return value;
    await sleep(50);
  }
  throw new Error(`condition not met within ${ms} ms`);
}

describe('tus with real clients', () => {
  let t: TestApp;
  let alice: TestUser;
  let workDir: string;
  let video: string;

  beforeAll(async () => {
    t = await createTestApp({ env: { PROGRESS_PERSIST_MS: '100' } });
    alice = await registerUser(t.url, 'alice');
    workDir = await mkdtemp(join(tmpdir(), 'tus-client-'));
    video = await largeMp4Like(workDir, 3 * 1024 * 1024 + 123);
  });

  afterAll(async () => {
    await t.close();
    await rm(workDir, { recursive: true, force: true });
  });

  it('tus-js-client uploads a video in chunks, survives a dropped PATCH by resuming, and stores identical bytes', async () => {
    let current: HttpRequest | undefined;
    let interrupted = false;
    const methods: string[] = [];
    const url = await runTusClient({
      file: createReadStream(video),
      endpoint: `${t.url}/api/tus`,
      headers: alice.auth,
      chunkSize: 1024 * 1024,
      retryDelays: [0, 200, 500],
      metadata: { filename: 'big.mp4', filetype: 'video/mp4', fileType: 'video', title: 'Big' },
      onBeforeRequest: (req) => {
        current = req;
        methods.push(req.getMethod());
      },
      onProgress: (sent) => {
        // Cut the connection once, as soon as the second chunk's first bytes are on their way (progress events are
        // throttled to one per 100 ms, so the first one of a chunk comes right after its first 64 KiB).
        if (!interrupted && sent > 1024 * 1024 && sent < 2 * 1024 * 1024) {
          interrupted = true;
          (current?.getUnderlyingObject() as ClientRequest).destroy(new Error('forced interruption'));
        }
      },
    });

    expect(interrupted).toBe(true);
    expect(methods[0]).toBe('POST');
    expect(methods).toContain('HEAD'); // the resume asked for the offset
    expect(methods.filter((method) => method === 'PATCH').length).toBeGreaterThanOrEqual(4);

    const id = url.split('/').pop() as string;
    const record = await t.connection.collection('media_uploads').findOne({ uploadId: id });
    const expected = await sha256File(video);
    expect(record).toMatchObject({
      status: 'completed',
      source: 'tus',
      checksumSha256: expected,
      title: 'Big',
    });
    expect(await storedSha256(t, String(record?.storageKey))).toBe(expected);
    expect(await storedNames(t, 'tus')).toEqual([]);

    const media = await request(t.url).get(`/api/upload/progress/${id}`).set(alice.auth).expect(200);
    expect(media.body).toMatchObject({ status: 'completed', percentComplete: 100 });
  });

  it('shows live progress of a PATCH in flight, and POST /api/upload/cancel/:id stops it and deletes the bytes', async () => {
    const total = 20 * 1024 * 1024;
    const id = await createTusUpload(t.url, alice.auth, total);

    // A deliberately slow body that starts like a video: 64 KiB every 20 ms, until the server answers.
    let stopped = false;
    let head: Buffer | undefined = (await readFile(video)).subarray(0, 64 * 1024);
    const body = new Readable({
      read() {
        if (stopped) return;
        const next = head ?? Buffer.alloc(64 * 1024, 7);
        head = undefined;
        setTimeout(() => this.push(stopped ? null : next), 20);
      },
    });
    const response = new Promise<number>((resolve) => {
      const req = http.request(`${t.url}/api/tus/${id}`, {
        method: 'PATCH',
        headers: {
          ...alice.auth,
          ...TUS,
          'Content-Type': 'application/offset+octet-stream',
          'Upload-Offset': '0',
        },
      });
      req.on('response', (res) => {
        stopped = true;
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', () => {
        stopped = true;
        resolve(0);
      });
      body.pipe(req);
    });

    const progress = await waitFor(async () => {
      const res = await request(t.url).get(`/api/upload/progress/${id}`).set(alice.auth).expect(200);
      return res.body.bytesUploaded >= 256 * 1024 ? res.body : undefined;
    });
    expect(progress).toMatchObject({ source: 'tus', status: 'uploading', totalBytes: total });
    expect(progress.percentComplete).toBeGreaterThan(0);
    expect(progress.percentComplete).toBeLessThan(100);

    const cancelled = await request(t.url).post(`/api/upload/cancel/${id}`).set(alice.auth).expect(200);
    expect(cancelled.body).toMatchObject({ status: 'cancelled' });
    expect([410, 0]).toContain(await response); // 410 UPLOAD_CANCELLED, or the socket closed first

    const record = await t.connection.collection('media_uploads').findOne({ uploadId: id });
    expect(record).toMatchObject({ status: 'cancelled' });
    expect(await storedNames(t, 'tus')).not.toContain(id);
    expect(await t.connection.collection('tus_uploads').findOne({ uploadId: id })).toBeNull();
    await request(t.url)
      .head(`/api/tus/${id}`)
      .set({ ...alice.auth, ...TUS })
      .expect(410);
  });

  it('cancels an idle tus upload (no PATCH running) through the same route', async () => {
    const id = await createTusUpload(t.url, alice.auth, 1000);
    await request(t.url)
      .patch(`/api/tus/${id}`)
      .set({ ...alice.auth, ...TUS, 'Content-Type': 'application/offset+octet-stream', 'Upload-Offset': '0' })
      .send(Buffer.alloc(100))
      .expect(204);
    await request(t.url).post(`/api/upload/cancel/${id}`).set(alice.auth).expect(200);
    expect(await t.connection.collection('media_uploads').findOne({ uploadId: id })).toMatchObject({
      status: 'cancelled',
    });
    expect(await storedNames(t, 'tus')).not.toContain(id);
  });
});
