import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import request from 'supertest';
import { tusDataKey } from '../../src/chunk/tus/tus-file.store';
import { UploadSlots } from '../../src/upload-limits';
import { ChunkReply, newFileId, postChunk } from '../chunk/seed-support';
import { createTusUpload, OCTETS, TUS, tusMetadata } from '../chunk/tus-support';
import { FilePart, RunningUpload, startUpload, upload } from '../media/support/multipart-upload';
import { mediaRecord, progressRecord, tmpFiles, waitFor } from '../media/support/stored-state';
import { largeMp4Like, mediaFixtures } from '../support/fixtures';
import { assemblyOf } from '../support/stored-objects';
import { createTestApp, TestApp } from '../support/test-app';
import { registerUser, TestUser } from '../support/users';
import { rawRequest } from './support/raw-http';

const fileType = { name: 'fileType', value: 'video' };
const video = (path: string): FilePart => ({ name: 'file', filename: 'clip.mp4', data: { path } });

/** Yields `fast` at once, then `slow` in `piece`-byte slices every `delayMs` (a client on a dying link). */
async function* trickle(fast: Buffer, slow: Buffer, piece: number, delayMs: number): AsyncGenerator<Buffer> {
  if (fast.length) yield fast;
  for (let offset = 0; offset < slow.length; offset += piece) {
    await sleep(delayMs);
    yield slow.subarray(offset, offset + piece);
  }
}

describe('Concurrent upload bodies per user (MAX_CONCURRENT_UPLOADS_PER_USER)', () => {
  let t: TestApp;
  let alice: TestUser;
  let bob: TestUser;
  let work: string;
  let clip: string;
  let mp4: Buffer;
  let slots: UploadSlots;

  beforeAll(async () => {
    t = await createTestApp({ env: { MAX_CONCURRENT_UPLOADS_PER_USER: '2' } });
    alice = await registerUser(t.url, 'alice');
    bob = await registerUser(t.url, 'bob');
    work = await mkdtemp(join(tmpdir(), 'in-flight-'));
    clip = await largeMp4Like(work, 1024 * 1024);
    mp4 = await readFile((await mediaFixtures()).mp4);
    slots = t.app.get(UploadSlots);
  });
  afterAll(async () => {
    expect(await tmpFiles(t)).toEqual([]);
    await t.close();
    await rm(work, { recursive: true, force: true });
  });

  const paused = async (user: TestUser, uploadId: string): Promise<RunningUpload> => {
    const running = startUpload(t.url, {
      parts: [fileType, video(clip)],
      headers: { ...user.auth, 'X-Upload-Id': uploadId },
      pauseAt: 256 * 1024,
    });
    await running.paused;
    return running;
  };

  it('refuses a third streaming body with 429 TOO_MANY_CONCURRENT_UPLOADS on every upload route', async () => {
    const first = await paused(alice, 'slot-hold-1');
    const second = await paused(alice, 'slot-hold-2');
    await waitFor(() => Promise.resolve(slots.inFlight(alice.id) === 2), 'both slots taken');

    const third = await upload(t.url, {
      parts: [fileType, video(clip)],
      headers: { ...alice.auth, 'X-Upload-Id': 'slot-refused-1' },
    });
    expect(third.status).toBe(429);
    expect(third.body).toMatchObject({ error: 'TOO_MANY_CONCURRENT_UPLOADS', limit: 2 });
    expect(third.headers?.['retry-after']).toBe('5');
    expect(await mediaRecord(t, 'slot-refused-1')).toBeNull();

    const chunk = await postChunk(
      t.url,
      alice.token,
      { fileId: newFileId(), chunkIndex: 0, status: 'uploading' },
      mp4,
    );
    expect(chunk.status).toBe(429);
    expect(chunk.body.error).toBe('TOO_MANY_CONCURRENT_UPLOADS');

    // A tus creation without a body streams nothing: not counted. Its PATCH and a creation-with-upload are.
    const id = await createTusUpload(t.url, alice.auth, mp4.length);
    const patch = await request(t.url)
      .patch(`/api/tus/${id}`)
      .set({ ...alice.auth, ...TUS, ...OCTETS, 'Upload-Offset': '0' })
      .send(mp4);
    expect(patch.status).toBe(429);
    expect(patch.body.error).toBe('TOO_MANY_CONCURRENT_UPLOADS');
    const createWithBody = await request(t.url)
      .post('/api/tus')
      .set({ ...alice.auth, ...TUS, ...OCTETS, 'Upload-Length': String(mp4.length) })
      .set('Upload-Metadata', tusMetadata({ fileType: 'video' }))
      .send(mp4);
    expect(createWithBody.status).toBe(429);
    expect(
      (
        await request(t.url)
          .head(`/api/tus/${id}`)
          .set({ ...alice.auth, ...TUS })
      ).headers,
    ).toMatchObject({
      'upload-offset': '0',
    });

    // Slots are per user: bob is not affected.
    const bobs = await upload(t.url, { parts: [fileType, video(clip)], headers: bob.auth });
    expect(bobs.status).toBe(201);

    // A finished and an aborted upload each give their slot back.
    first.release();
    expect((await first.result).status).toBe(201);
    second.abort();
    await second.result;
    await waitFor(() => Promise.resolve(slots.inFlight(alice.id) === 0), 'both slots back');
    const later = await upload(t.url, { parts: [fileType, video(clip)], headers: alice.auth });
    expect(later.status).toBe(201);
  });

  it('gives each slot back exactly once, whatever ended the request', async () => {
    // Refused input, a bad type, a cancelled upload, a tus PATCH at a wrong offset, a seed chunk: all end.
    expect((await upload(t.url, { parts: [video(clip)], headers: alice.auth })).status).toBe(400);
    const photo = await upload(t.url, {
      parts: [{ name: 'fileType', value: 'photo' }, video(clip)],
      headers: alice.auth,
    });
    expect(photo.status).toBe(415);
    const cancelled = await paused(alice, 'slot-cancel-1');
    await waitFor(async () => (await progressRecord(t, 'slot-cancel-1'))?.status === 'uploading', 'tracking');
    await request(t.url).post('/api/upload/cancel/slot-cancel-1').set(alice.auth).expect(200);
    await cancelled.result;
    const id = await createTusUpload(t.url, alice.auth, mp4.length);
    await request(t.url)
      .patch(`/api/tus/${id}`)
      .set({ ...alice.auth, ...TUS, ...OCTETS, 'Upload-Offset': '5' })
      .send(mp4)
      .expect(409);
    const fileId = newFileId();
    expect(
      (await postChunk(t.url, alice.token, { fileId, chunkIndex: 0, status: 'uploading' }, mp4)).status,
    ).toBe(200);
    await waitFor(() => Promise.resolve(slots.inFlight(alice.id) === 0), 'every slot back');

    // Nothing was given back twice: the cap still holds at exactly two.
    const first = await paused(alice, 'slot-again-1');
    const second = await paused(alice, 'slot-again-2');
    const third = await upload(t.url, { parts: [fileType, video(clip)], headers: alice.auth });
    expect(third.status).toBe(429);
    first.release();
    second.release();
    expect((await first.result).status).toBe(201);
    expect((await second.result).status).toBe(201);
    await waitFor(() => Promise.resolve(slots.inFlight(alice.id) === 0), 'slots back after the test');
  });
});

describe('Minimum upload throughput (UPLOAD_MIN_BYTES_PER_SECOND)', () => {
  let t: TestApp;
  let alice: TestUser;
  let work: string;
  let clip: string;
  let mp4: Buffer;
  let slots: UploadSlots;

  beforeAll(async () => {
    t = await createTestApp({
      env: { UPLOAD_MIN_BYTES_PER_SECOND: '4000', UPLOAD_THROUGHPUT_WINDOW: '1', PROGRESS_PERSIST_MS: '100' },
    });
    alice = await registerUser(t.url, 'alice');
    work = await mkdtemp(join(tmpdir(), 'trickle-'));
    clip = await largeMp4Like(work, 256 * 1024);
    mp4 = await readFile(clip);
    slots = t.app.get(UploadSlots);
  });
  afterAll(async () => {
    expect(await tmpFiles(t)).toEqual([]);
    await t.close();
    await rm(work, { recursive: true, force: true });
  });

  it('ends a trickling multipart body with 408 UPLOAD_TOO_SLOW and cleans up as after a client abort', async () => {
    const started = Date.now();
    const result = await upload(t.url, {
      parts: [fileType, { name: 'title', value: 'Slow' }, video(clip)],
      headers: { ...alice.auth, 'X-Upload-Id': 'trickle-multipart-1' },
      chunkSize: 50,
      delayMs: 100,
    });
    expect(result.status).toBe(408);
    expect(result.body).toMatchObject({
      success: false,
      statusCode: 408,
      error: 'UPLOAD_TOO_SLOW',
      minBytesPerSecond: 4000,
      windowSeconds: 1,
    });
    expect(result.headers?.connection).toBe('close');
    expect(Date.now() - started).toBeLessThan(10_000);
    const record = await waitFor(async () => {
      const found = await mediaRecord(t, 'trickle-multipart-1');
      return found?.status === 'failed' ? found : null;
    }, 'the record to fail');
    expect(record).toMatchObject({ fileType: 'video', title: 'Slow' });
    // The progress record ends right after the upload record (UploadAbandoner), not with it.
    await waitFor(
      async () => (await progressRecord(t, 'trickle-multipart-1'))?.status === 'failed',
      'the progress record to fail',
    );
    expect(await tmpFiles(t)).toEqual([]);
    await waitFor(() => Promise.resolve(slots.inFlight(alice.id) === 0), 'the slot back');

    // A client at a normal pace is never bothered.
    const fast = await upload(t.url, { parts: [fileType, video(clip)], headers: alice.auth });
    expect(fast.status).toBe(201);
  });

  it('ends a trickling seed chunk with 408; the same chunk sent at a normal pace is then accepted', async () => {
    const fileId = newFileId();
    const fields = { fileId, chunkIndex: 0, status: 'uploading' };
    const slow = await postChunk(t.url, alice.token, fields, mp4, { pieceBytes: 50, delayMs: 100 }).catch(
      (): ChunkReply => ({ status: 0, body: {} }),
    );
    expect(slow.status).toBe(408);
    expect(slow.body.error).toBe('UPLOAD_TOO_SLOW');
    await waitFor(() => Promise.resolve(slots.inFlight(alice.id) === 0), 'the slot back');
    const again = await postChunk(t.url, alice.token, { ...fields, status: 'completed' }, mp4);
    expect(again.status).toBe(200);
  });

  it('ends a trickling tus PATCH with 408 and keeps the bytes it stored resumable', async () => {
    const id = await createTusUpload(t.url, alice.auth, mp4.length);
    const fast = mp4.subarray(0, 64 * 1024);
    const reply = await rawRequest(t.url, `/api/tus/${id}`, {
      method: 'PATCH',
      headers: {
        ...alice.auth,
        ...TUS,
        ...OCTETS,
        'Upload-Offset': '0',
        'Content-Length': String(mp4.length),
      },
      body: trickle(fast, mp4.subarray(fast.length), 50, 100),
    });
    expect(reply.status).toBe(408);
    expect(reply.body.error).toBe('UPLOAD_TOO_SLOW');
    await waitFor(() => Promise.resolve(slots.inFlight(alice.id) === 0), 'the slot back');

    const head = await request(t.url)
      .head(`/api/tus/${id}`)
      .set({ ...alice.auth, ...TUS })
      .expect(200);
    const offset = Number(head.headers['upload-offset']);
    // HEAD answers what the storage kept of the cut-off PATCH: on local disk every byte that reached the file; on
    // S3 nothing, since the destroyed PATCH's piece is aborted (docs/architecture.md, tus on S3).
    expect(offset).toBe((await assemblyOf(t, tusDataKey(id)).length()) ?? 0);
    if (t.storage === 'local') expect(offset).toBeGreaterThanOrEqual(fast.length);
    await request(t.url)
      .patch(`/api/tus/${id}`)
      .set({ ...alice.auth, ...TUS, ...OCTETS, 'Upload-Offset': String(offset) })
      .send(mp4.subarray(offset))
      .expect(204);
    expect(await mediaRecord(t, id)).toMatchObject({ status: 'completed', fileSize: mp4.length });
  });

  it('ends a trickling tus creation-with-upload with 408', async () => {
    const reply = await rawRequest(t.url, '/api/tus', {
      method: 'POST',
      headers: {
        ...alice.auth,
        ...TUS,
        ...OCTETS,
        'Upload-Length': String(mp4.length),
        'Upload-Metadata': tusMetadata({ fileType: 'video' }),
        'Content-Length': String(mp4.length),
      },
      body: trickle(Buffer.alloc(0), mp4, 50, 100),
    });
    expect(reply.status).toBe(408);
    expect(reply.body.error).toBe('UPLOAD_TOO_SLOW');
    await waitFor(() => Promise.resolve(slots.inFlight(alice.id) === 0), 'the slot back');
  });
});
