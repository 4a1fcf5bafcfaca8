import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { MediaRecordsService } from '../../src/media/media-records.service';
import { UploadCancelService } from '../../src/progress/upload-cancel.service';
import { UploadProgressService } from '../../src/progress/upload-progress.service';
import { largeMp4Like } from '../support/fixtures';
import { writeStored } from '../support/stored-objects';
import { createTestApp, TestApp } from '../support/test-app';
import { registerUser, TestUser } from '../support/users';
import { FilePart, startUpload, upload } from '../media/support/multipart-upload';
import {
  mediaFiles,
  mediaRecord,
  progressRecord,
  tmpFiles,
  waitFor,
  waitForPartial,
} from '../media/support/stored-state';
import { readEvents } from './sse-client';

describe('Live progress and cancel of POST /api/upload/media', () => {
  let t: TestApp;
  let alice: TestUser;
  let work: string;
  let twoMb: string;

  const video = (path: string): FilePart => ({ name: 'file', filename: 'clip.mp4', data: { path } });
  const fileType = { name: 'fileType', value: 'video' };

  beforeAll(async () => {
    t = await createTestApp({ env: { PROGRESS_PERSIST_MS: '100', PROGRESS_EVENT_MS: '20' } });
    alice = await registerUser(t.url, 'alice');
    work = await mkdtemp(join(tmpdir(), 'media-progress-'));
    twoMb = await largeMp4Like(work, 2 * 1024 * 1024);
  });
  afterAll(async () => {
    expect(await tmpFiles(t)).toEqual([]);
    await t.close();
    await rm(work, { recursive: true, force: true });
  });

  const progressOf = (id: string) => request(t.url).get(`/api/upload/progress/${id}`).set(alice.auth);

  it('reports progress strictly between 0 and 100 % while the body streams, by polling and over SSE', async () => {
    const running = startUpload(t.url, {
      parts: [fileType, video(twoMb)],
      headers: { ...alice.auth, 'X-Upload-Id': 'live-progress-1' },
      pauseAt: 1024 * 1024,
    });
    await running.paused;
    const mid = await waitFor(async () => {
      const res = await progressOf('live-progress-1');
      return res.status === 200 && res.body.bytesUploaded > 0 ? res.body : null;
    }, 'bytes to arrive');
    expect(mid.status).toBe('uploading');
    expect(mid.percentComplete).toBeGreaterThan(0);
    expect(mid.percentComplete).toBeLessThan(100);
    // The file's size, not the multipart body's length (fields came first, so it is exact).
    expect(mid).toMatchObject({ totalBytes: 2 * 1024 * 1024, totalIsEstimate: false });
    expect(mid.percentComplete).toBe(Math.floor((mid.bytesUploaded / (2 * 1024 * 1024)) * 1000) / 10);
    expect(mid.completedTime).toBeNull();

    const ticket = await request(t.url)
      .post('/api/upload/progress/live-progress-1/events/ticket')
      .set(alice.auth);
    expect(ticket.status).toBe(201);
    // The first event (the current state) releases the paused client, so later events see it finish.
    const events = await readEvents(`${t.url}${ticket.body.eventsUrl}`, () => running.release());
    const result = await running.result;
    expect(result.status).toBe(201);

    const progress = events.filter((event) => event.event === 'progress').map((event) => event.data);
    expect(progress[0]).toMatchObject({ uploadId: 'live-progress-1', status: 'uploading' });
    expect(progress[0].percentComplete).toBeGreaterThan(0);
    expect(progress[0].percentComplete).toBeLessThan(100);
    expect(progress[progress.length - 1]).toMatchObject({ status: 'completed', percentComplete: 100 });
    expect(events[events.length - 1]).toEqual({ event: 'end', data: { status: 'completed' } });

    const done = await progressOf('live-progress-1');
    expect(done.body).toMatchObject({
      status: 'completed',
      percentComplete: 100,
      bytesUploaded: 2 * 1024 * 1024,
      totalBytes: 2 * 1024 * 1024,
      remainingTime: null,
    });
    expect(done.body.completedTime).not.toBeNull();
  });

  it('cancels a running upload: the stream stops, the partial file goes, both records say cancelled', async () => {
    const running = startUpload(t.url, {
      parts: [fileType, video(twoMb)],
      headers: { ...alice.auth, 'X-Upload-Id': 'cancel-live-1' },
      chunkSize: 16 * 1024,
      delayMs: 10,
    });
    await waitForPartial(t, 'cancel-live-1');
    await waitFor(async () => (await progressOf('cancel-live-1')).body.bytesUploaded > 0, 'bytes to arrive');

    const cancel = await request(t.url).post('/api/upload/cancel/cancel-live-1').set(alice.auth);
    expect(cancel.status).toBe(200);
    expect(cancel.body).toMatchObject({ success: true, status: 'cancelled', message: 'Upload cancelled' });

    const result = await running.result;
    // The client's request fails: an error answer or a cut connection, never a 201.
    if (result.error === undefined) {
      expect(result.status).toBe(409);
      expect(result.body.error).toBe('UPLOAD_CANCELLED');
    }
    expect(running.fileBytesSent()).toBeLessThan(2 * 1024 * 1024);
    expect(await tmpFiles(t)).toEqual([]);
    expect(await mediaFiles(t, alice.id)).not.toContain('cancel-live-1.mp4');
    expect(await mediaRecord(t, 'cancel-live-1')).toMatchObject({
      status: 'cancelled',
      failureReason: 'Cancelled by the user',
      cancelledAt: expect.any(Date),
    });
    expect(await progressRecord(t, 'cancel-live-1')).toMatchObject({ status: 'cancelled' });
    expect((await progressOf('cancel-live-1')).body).toMatchObject({ status: 'cancelled', speed: 0 });

    const again = await request(t.url).post('/api/upload/cancel/cancel-live-1').set(alice.auth);
    expect(again.status).toBe(200);
    expect(again.body.status).toBe('cancelled');

    // The server is healthy: the next upload goes through.
    const next = await upload(t.url, { parts: [fileType, video(twoMb)], headers: alice.auth });
    expect(next.status).toBe(201);
  });

  it('cancels an upload paused mid-body; the waiting client gets 409 UPLOAD_CANCELLED', async () => {
    const running = startUpload(t.url, {
      parts: [fileType, video(twoMb)],
      headers: { ...alice.auth, 'X-Upload-Id': 'cancel-paused-1' },
      pauseAt: 512 * 1024,
    });
    await running.paused;
    await waitFor(
      async () => (await progressOf('cancel-paused-1')).body.bytesUploaded > 0,
      'bytes to arrive',
    );
    await request(t.url).post('/api/upload/cancel/cancel-paused-1').set(alice.auth).expect(200);
    const result = await running.result;
    expect(result.error ?? result.status).toBe(409);
    expect(await tmpFiles(t)).toEqual([]);
    expect(await mediaRecord(t, 'cancel-paused-1')).toMatchObject({ status: 'cancelled' });
  });

  it('reports the file size as an estimate while fields follow the file, and exactly once the file ended', async () => {
    const running = startUpload(t.url, {
      parts: [video(twoMb), fileType, { name: 'title', value: 'After the file' }],
      headers: { ...alice.auth, 'X-Upload-Id': 'file-first-1' },
      pauseAt: 1024 * 1024,
    });
    await running.paused;
    const mid = await waitFor(async () => {
      const res = await progressOf('file-first-1');
      return res.status === 200 && res.body.bytesUploaded > 0 ? res.body : null;
    }, 'bytes to arrive');
    // The fields after the file are counted too: an upper bound, said so; never the framing before the file.
    expect(mid.totalIsEstimate).toBe(true);
    expect(mid.totalBytes).toBeGreaterThan(2 * 1024 * 1024);
    expect(mid.totalBytes).toBeLessThan(2 * 1024 * 1024 + 400);
    running.release();
    expect((await running.result).status).toBe(201);
    expect((await progressOf('file-first-1')).body).toMatchObject({
      totalBytes: 2 * 1024 * 1024,
      totalIsEstimate: false,
    });
  });

  it('shows the exact file size when an upload fails after its file arrived (no 99.9 % of a body length)', async () => {
    const res = await upload(t.url, {
      parts: [fileType, video(twoMb)],
      headers: { ...alice.auth, 'X-Upload-Id': 'fail-after-file-1', 'X-Content-SHA256': '0'.repeat(64) },
    });
    expect(res.status).toBe(422);
    const progress = (await progressOf('fail-after-file-1')).body;
    expect(progress).toMatchObject({
      status: 'failed',
      bytesUploaded: 2 * 1024 * 1024,
      totalBytes: 2 * 1024 * 1024,
      totalIsEstimate: false,
    });
  });

  it('keeps the fields sent before the file on an upload cancelled mid-file, so filters find it', async () => {
    const running = startUpload(t.url, {
      parts: [
        fileType,
        { name: 'title', value: 'Beach day' },
        { name: 'description', value: 'Cancelled half way' },
        video(twoMb),
      ],
      headers: { ...alice.auth, 'X-Upload-Id': 'cancel-fields-1' },
      pauseAt: 512 * 1024,
    });
    await running.paused;
    await waitFor(async () => (await progressOf('cancel-fields-1')).body.bytesUploaded > 0, 'bytes');
    await request(t.url).post('/api/upload/cancel/cancel-fields-1').set(alice.auth).expect(200);
    await running.result;
    expect(await mediaRecord(t, 'cancel-fields-1')).toMatchObject({
      status: 'cancelled',
      fileType: 'video',
      title: 'Beach day',
      description: 'Cancelled half way',
      originalName: 'clip.mp4',
    });
    const listed = await request(t.url)
      .get('/api/media?fileType=video&status=cancelled')
      .set(alice.auth)
      .expect(200);
    const items = listed.body.items as Array<{ uploadId: string }>;
    expect(items.map((item) => item.uploadId)).toContain('cancel-fields-1');
  });

  it('keeps the fields sent before the file on an upload whose client disconnected mid-file', async () => {
    const running = startUpload(t.url, {
      parts: [fileType, { name: 'title', value: 'Gone' }, video(twoMb)],
      headers: { ...alice.auth, 'X-Upload-Id': 'gone-fields-1' },
      pauseAt: 512 * 1024,
    });
    await running.paused;
    await waitForPartial(t, 'gone-fields-1');
    running.abort();
    const record = await waitFor(async () => {
      const found = await mediaRecord(t, 'gone-fields-1');
      return found?.status === 'failed' ? found : null;
    }, 'the record to fail');
    expect(record).toMatchObject({ fileType: 'video', title: 'Gone', originalName: 'clip.mp4' });
  });

  it('answers 409 to a cancel of a completed upload, pointing to DELETE', async () => {
    const done = await upload(t.url, {
      parts: [fileType, video(twoMb)],
      headers: { ...alice.auth, 'X-Upload-Id': 'completed-0001' },
    });
    expect(done.status).toBe(201);
    const res = await request(t.url).post('/api/upload/cancel/completed-0001').set(alice.auth);
    expect(res.status).toBe(409);
    expect(res.body).toMatchObject({ error: 'UPLOAD_COMPLETED' });
    expect(res.body.message).toContain('DELETE /api/media/completed-0001');
    expect(await mediaFiles(t, alice.id)).toContain('completed-0001.mp4');
  });

  describe('the multipart discarder (an upload no live request holds, e.g. after a restart)', () => {
    const leftover = async (uploadId: string) => {
      await t.app.get(MediaRecordsService).create({
        userId: alice.id,
        uploadId,
        source: 'multipart',
        fileType: 'video',
        expiresAt: new Date(Date.now() + 60_000),
      });
      await t.app.get(UploadProgressService).open(alice.id, uploadId, 'multipart', 1000, 10);
      const tmp = `tmp/${alice.id}.${uploadId}.part`;
      await writeStored(t, tmp, Buffer.alloc(10));
      return tmp;
    };

    it('is used by cancel: the leftover tmp file goes and the record ends cancelled', async () => {
      await leftover('leftover-0001');
      expect(await tmpFiles(t)).toHaveLength(1);
      const res = await request(t.url).post('/api/upload/cancel/leftover-0001').set(alice.auth);
      expect(res.status).toBe(200);
      expect(res.body.status).toBe('cancelled');
      expect(await tmpFiles(t)).toEqual([]);
      expect(await mediaRecord(t, 'leftover-0001')).toMatchObject({ status: 'cancelled' });
    });

    it('is used by expiry, and is harmless twice', async () => {
      await leftover('leftover-0002');
      const cancels = t.app.get(UploadCancelService);
      await cancels.discard(alice.id, 'leftover-0002', 'multipart', 'expired', 'Expired');
      await cancels.discard(alice.id, 'leftover-0002', 'multipart', 'expired', 'Expired');
      expect(await tmpFiles(t)).toEqual([]);
      expect(await mediaRecord(t, 'leftover-0002')).toMatchObject({
        status: 'expired',
        failureReason: 'Expired',
      });
      expect(await progressRecord(t, 'leftover-0002')).toMatchObject({ status: 'expired' });
    });

    it('never touches a completed upload', async () => {
      await t.app
        .get(UploadCancelService)
        .discard(alice.id, 'completed-0001', 'multipart', 'expired', 'Expired');
      expect(await mediaRecord(t, 'completed-0001')).toMatchObject({ status: 'completed' });
      expect(await mediaFiles(t, alice.id)).toContain('completed-0001.mp4');
    });
  });
});
