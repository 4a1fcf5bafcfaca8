import { SchedulerRegistry } from '@nestjs/schedule';
import { readFile, readdir, utimes, writeFile } from 'node:fs/promises';
import http from 'node:http';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import request from 'supertest';
import { MediaRecordsService } from '../../src/media/media-records.service';
import { ExpirySweeper } from '../../src/sweeper/expiry-sweeper.service';
import { createTusUpload, OCTETS, TUS } from '../chunk/tus-support';
import { mediaFixtures } from '../support/fixtures';
import { createTestApp, TestApp } from '../support/test-app';
import { registerUser, TestUser } from '../support/users';

const EXPIRY_S = 60;

describe('Expiry sweeper', () => {
  let t: TestApp;
  let alice: TestUser;
  let sweeper: ExpirySweeper;

  beforeAll(async () => {
    t = await createTestApp({ env: { UPLOAD_EXPIRY: String(EXPIRY_S), PROGRESS_PERSIST_MS: '100' } });
    alice = await registerUser(t.url, 'alice');
    sweeper = t.app.get(ExpirySweeper);
  });

  afterAll(() => t.close());

  const record = (id: string) => t.connection.collection('media_uploads').findOne({ uploadId: id });
  const tusFiles = () => readdir(join(t.uploadDir, 'tus'));
  const progressOf = async (id: string) =>
    (await request(t.url).get(`/api/upload/progress/${id}`).set(alice.auth).expect(200)).body as {
      status: string;
      bytesUploaded: number;
      reason: string | null;
    };

  it('is scheduled every SWEEP_INTERVAL under a registered interval', () => {
    expect(t.app.get(SchedulerRegistry).doesExist('interval', 'upload-expiry-sweep')).toBe(true);
  });

  it('leaves uploads alone before UPLOAD_EXPIRY has passed', async () => {
    const id = await createTusUpload(t.url, alice.auth, 1000);
    const report = await sweeper.sweep(new Date(Date.now() + (EXPIRY_S - 5) * 1000));
    expect(report.expired).toBe(0);
    expect(await record(id)).toMatchObject({ status: 'uploading' });
    await request(t.url).post(`/api/upload/cancel/${id}`).set(alice.auth).expect(200);
  });

  it('expires an idle tus upload (bytes and info deleted, status expired) but skips one still streaming here', async () => {
    const idle = await createTusUpload(t.url, alice.auth, 10_000);
    await request(t.url)
      .patch(`/api/tus/${idle}`)
      .set({ ...alice.auth, ...TUS, ...OCTETS, 'Upload-Offset': '0' })
      .send(Buffer.alloc(4000, 1))
      .expect(204);
    expect(await tusFiles()).toContain(idle);

    // A second upload whose PATCH keeps streaming (64 KiB every 20 ms) while the sweep runs.
    const busy = await createTusUpload(t.url, alice.auth, 50 * 1024 * 1024);
    const created = Date.now();
    let stopped = false;
    // It starts like a video: tus checks the content as soon as its head has arrived.
    let head: Buffer | undefined = await readFile((await mediaFixtures()).mp4);
    const body = new Readable({
      read() {
        const next = head ?? Buffer.alloc(64 * 1024, 2);
        head = undefined;
        if (!stopped) setTimeout(() => this.push(stopped ? null : next), 20);
      },
    });
    const req = http.request(`${t.url}/api/tus/${busy}`, {
      method: 'PATCH',
      headers: { ...alice.auth, ...TUS, ...OCTETS, 'Upload-Offset': '0' },
    });
    const answered = new Promise<void>((done) => {
      req.on('response', (res) => (res.resume(), done()));
      req.on('error', () => done());
    });
    body.pipe(req);
    try {
      const deadline = Date.now() + 10_000;
      while (
        (Date.now() - created < 1500 || (await progressOf(busy)).bytesUploaded === 0) &&
        Date.now() < deadline
      ) {
        await sleep(100);
      }
      // Both records are past their expiry at this instant; only the busy one had bytes within UPLOAD_EXPIRY.
      const busyRecord = await record(busy);
      const at = new Date((busyRecord?.expiresAt as Date).getTime() + 500);
      const report = await sweeper.sweep(at);

      expect(report).toMatchObject({ expired: 1, skipped: 1 });
      expect(await record(idle)).toMatchObject({ status: 'expired', failureReason: 'No activity for 1 min' });
      expect(await progressOf(idle)).toMatchObject({ status: 'expired' });
      expect(await tusFiles()).not.toContain(idle);
      expect(await t.connection.collection('tus_uploads').findOne({ uploadId: idle })).toBeNull();
      await request(t.url)
        .head(`/api/tus/${idle}`)
        .set({ ...alice.auth, ...TUS })
        .expect(410);

      expect(await record(busy)).toMatchObject({ status: 'uploading' });
      expect(await progressOf(busy)).toMatchObject({ status: 'uploading' });
    } finally {
      await request(t.url).post(`/api/upload/cancel/${busy}`).set(alice.auth);
      stopped = true;
      await answered;
    }
    expect(await tusFiles()).not.toContain(busy);
  });

  it('expires a seed chunk session and a single-request upload left behind by a crash, through their discarders', async () => {
    const mp4 = await readFile((await mediaFixtures()).mp4);
    await request(t.url)
      .post('/api/video/upload')
      .set(alice.auth)
      .field('fileId', 'sweep-me')
      .field('chunkIndex', '0')
      .field('status', 'uploading')
      .attach('file', mp4.subarray(0, 2000), 'chunk-0.webm')
      .expect(200);
    const status = await request(t.url).get('/api/video/status/sweep-me').set(alice.auth).expect(200);
    const chunkUploadId = String(status.body.data.uploadId);
    expect(await readdir(join(t.uploadDir, 'chunks', alice.id))).toHaveLength(1);

    // What a crash in the middle of POST /api/upload/media leaves: an `uploading` record and its tmp/ file.
    const crashed = 'crashed-multipart-1';
    await t.app.get(MediaRecordsService).create({
      userId: alice.id,
      uploadId: crashed,
      source: 'multipart',
      fileType: 'video',
      expiresAt: new Date(Date.now() + EXPIRY_S * 1000),
    });
    const partial = join(t.uploadDir, 'tmp', `${alice.id}.${crashed}.part`);
    await writeFile(partial, mp4.subarray(0, 1000));

    const report = await sweeper.sweep(new Date(Date.now() + (EXPIRY_S + 10) * 1000));
    expect(report.expired).toBe(2);
    expect(await record(chunkUploadId)).toMatchObject({ source: 'chunked', status: 'expired' });
    expect(await progressOf(chunkUploadId)).toMatchObject({ status: 'expired' });
    expect(await readdir(join(t.uploadDir, 'chunks', alice.id)).catch(() => [])).toHaveLength(0);
    expect(await record(crashed)).toMatchObject({ source: 'multipart', status: 'expired' });
    expect(await readdir(join(t.uploadDir, 'tmp'))).not.toContain(`${alice.id}.${crashed}.part`);
  });

  it('deletes stray files in tmp/ untouched for UPLOAD_EXPIRY, and keeps recent ones', async () => {
    const tmp = join(t.uploadDir, 'tmp');
    await writeFile(join(tmp, 'stray.part'), 'left by a crash');
    await writeFile(join(tmp, 'fresh.part'), 'being written');
    const old = new Date(Date.now() - (EXPIRY_S + 60) * 1000);
    await utimes(join(tmp, 'stray.part'), old, old);

    const report = await sweeper.sweep();
    expect(report.strayFiles).toBe(1);
    expect(await readdir(tmp)).toEqual(['fresh.part']);
  });
});
