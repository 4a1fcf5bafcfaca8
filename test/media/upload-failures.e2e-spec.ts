import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { MediaRecordsService } from '../../src/media/media-records.service';
import { StorageDriver } from '../../src/storage';
import { failDiskAfter } from '../reliability/support/fault-support';
import { largeMp4Like, mediaFixtures } from '../support/fixtures';
import { createTestApp, TestApp } from '../support/test-app';
import { registerUser, TestUser } from '../support/users';
import { FilePart, startUpload, upload } from './support/multipart-upload';
import {
  mediaFiles,
  mediaRecord,
  progressRecord,
  tmpFiles,
  waitFor,
  waitForPartial,
} from './support/stored-state';

const LIMIT = 1_000_000;

describe('POST /api/upload/media failure paths', () => {
  let t: TestApp;
  let alice: TestUser;
  let work: string;
  let mp4: Buffer;
  let overLimit: string;
  let underLimit: string;

  const video = (data: FilePart['data']): FilePart => ({ name: 'file', filename: 'clip.mp4', data });
  const fields = [{ name: 'fileType', value: 'video' }];

  beforeAll(async () => {
    t = await createTestApp({ env: { MAX_MEDIA_BYTES: String(LIMIT), PROGRESS_PERSIST_MS: '100' } });
    alice = await registerUser(t.url, 'alice');
    work = await mkdtemp(join(tmpdir(), 'media-failures-'));
    mp4 = await readFile((await mediaFixtures()).mp4);
    overLimit = await largeMp4Like(work, 3 * LIMIT);
    underLimit = await largeMp4Like(work, 900_000);
  });
  afterAll(async () => {
    expect(await tmpFiles(t)).toEqual([]);
    await t.close();
    await rm(work, { recursive: true, force: true });
  });
  afterEach(() => jest.restoreAllMocks());

  it('refuses a declared Content-Length over the limit with 413 before writing a byte', async () => {
    const writes = jest.spyOn(t.app.get(StorageDriver), 'openWrite');
    // The client declares 3 MB but sends only the first 64 KiB, then waits: the answer must not need the body.
    const res = await startUpload(t.url, {
      parts: [...fields, video({ path: overLimit })],
      headers: { ...alice.auth, 'X-Upload-Id': 'declared-too-big' },
      sendAtMost: 64 * 1024,
    }).result;
    expect(res.status).toBe(413);
    expect(res.body).toMatchObject({ success: false, error: 'PAYLOAD_TOO_LARGE', maxBytes: LIMIT });
    expect(res.headers?.connection).toBe('close');
    expect(writes).not.toHaveBeenCalled();
    expect(await tmpFiles(t)).toEqual([]);
    expect(await mediaRecord(t, 'declared-too-big')).toBeNull();
  });

  it('cuts a chunked body (no Content-Length) at the limit with 413', async () => {
    const res = await startUpload(t.url, {
      parts: [...fields, video({ path: overLimit })],
      headers: { ...alice.auth, 'X-Upload-Id': 'chunked-too-big' },
      chunked: true,
      delayMs: 2,
    }).result;
    expect(res.status).toBe(413);
    expect(res.body.error).toBe('PAYLOAD_TOO_LARGE');
    expect(await tmpFiles(t)).toEqual([]);
    const record = await mediaRecord(t, 'chunked-too-big');
    expect(record).toMatchObject({
      status: 'failed',
      failureReason: expect.stringContaining('PAYLOAD_TOO_LARGE'),
    });
    expect(await progressRecord(t, 'chunked-too-big')).toMatchObject({ status: 'failed' });
    expect((await progressRecord(t, 'chunked-too-big'))!.bytesUploaded).toBeLessThanOrEqual(LIMIT);
  });

  it('cuts a file over the limit inside a body whose declared length passes (413 mid-stream)', async () => {
    const data = (await readFile(overLimit)).subarray(0, LIMIT + 10_000);
    const res = await upload(t.url, {
      parts: [...fields, video(data)],
      headers: { ...alice.auth, 'X-Upload-Id': 'file-too-big' },
    });
    expect(res.status).toBe(413);
    expect(await tmpFiles(t)).toEqual([]);
    expect(await mediaRecord(t, 'file-too-big')).toMatchObject({ status: 'failed' });
  });

  it('accepts a file just under the limit', async () => {
    const res = await upload(t.url, { parts: [...fields, video({ path: underLimit })], headers: alice.auth });
    expect(res.status).toBe(201);
    expect(res.body.fileSize).toBe(900_000);
  });

  it('answers 507 when the disk fills up, and removes the partial file', async () => {
    const storage = t.app.get(StorageDriver);
    // Writes the first 128 KiB for real, then fails like a full disk.
    const disk = failDiskAfter(t, 128 * 1024);
    const res = await upload(t.url, {
      parts: [...fields, video({ path: underLimit })],
      headers: { ...alice.auth, 'X-Upload-Id': 'disk-full-0001' },
    });
    expect(res.status).toBe(507);
    expect(res.body.error).toBe('INSUFFICIENT_STORAGE');
    // Staged in tmp/, or where promoting would copy (S3) at its media key already: removed either way.
    const partial = disk.key();
    expect(partial).toMatch(storage.promoteCopies ? /^media\// : /^tmp\//);
    expect(await tmpFiles(t)).toEqual([]);
    expect(await storage.stat(partial)).toBeUndefined();
    expect(await mediaRecord(t, 'disk-full-0001')).toMatchObject({
      status: 'failed',
      failureReason: expect.stringContaining('INSUFFICIENT_STORAGE'),
    });
  });

  it('deletes the stored file and answers 500 when the database write fails', async () => {
    jest
      .spyOn(t.app.get(MediaRecordsService), 'complete')
      .mockRejectedValueOnce(new Error('database unavailable'));
    const before = await mediaFiles(t, alice.id);
    const res = await upload(t.url, {
      parts: [...fields, video(mp4)],
      headers: { ...alice.auth, 'X-Upload-Id': 'db-fails-0001' },
    });
    expect(res.status).toBe(500);
    expect(res.body).toMatchObject({ error: 'INTERNAL_ERROR', message: 'Internal server error' });
    expect(await mediaFiles(t, alice.id)).toEqual(before);
    expect(await tmpFiles(t)).toEqual([]);
    expect(await mediaRecord(t, 'db-fails-0001')).toMatchObject({ status: 'failed' });
    expect(await progressRecord(t, 'db-fails-0001')).toMatchObject({ status: 'failed' });
  });

  it('ends the records as failed and removes the partial file when the client disconnects mid-body', async () => {
    const running = startUpload(t.url, {
      parts: [...fields, video({ path: underLimit })],
      headers: { ...alice.auth, 'X-Upload-Id': 'client-gone-0001' },
      pauseAt: 300_000,
    });
    await running.paused;
    await waitForPartial(t, 'client-gone-0001');
    running.abort();
    expect((await running.result).error).toBeDefined();
    const record = await waitFor(async () => {
      const found = await mediaRecord(t, 'client-gone-0001');
      return found?.status === 'failed' ? found : null;
    }, 'the record to fail');
    expect(record.failureReason).toContain('CLIENT_DISCONNECTED');
    expect(await tmpFiles(t)).toEqual([]);
    expect(await progressRecord(t, 'client-gone-0001')).toMatchObject({ status: 'failed' });
    await request(t.url).get('/api/health').expect(200);
  });
});
