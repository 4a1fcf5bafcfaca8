import { SchedulerRegistry } from '@nestjs/schedule';
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import request from 'supertest';
import { tusDataKey } from '../../src/chunk/tus/tus-file.store';
import { MediaRecordsService } from '../../src/media/media-records.service';
import { StorageDriver } from '../../src/storage';
import { ExpirySweeper } from '../../src/sweeper/expiry-sweeper.service';
import { createTusUpload, OCTETS, TUS } from '../chunk/tus-support';
import { tmpFiles, waitFor } from '../media/support/stored-state';
import { mediaFixtures } from '../support/fixtures';
import { assemblyKeys, storedKeys, writeStored } from '../support/stored-objects';
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
  const tusKeysOf = (id: string) => assemblyKeys(t, tusDataKey(id));
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
    expect(await tusKeysOf(idle)).not.toEqual([]);

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
      expect(await record(idle)).toMatchObject({
        status: 'expired',
        failureReason: 'No activity for 1 min',
      });
      expect(await progressOf(idle)).toMatchObject({ status: 'expired' });
      expect(await tusKeysOf(idle)).toEqual([]);
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
    expect(await tusKeysOf(busy)).toEqual([]);
  });

  it('expires a seed chunk session left behind, through its discarder', async () => {
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
    expect(await storedKeys(t, `chunks/${alice.id}/`)).not.toEqual([]);

    const report = await sweeper.sweep(new Date(Date.now() + (EXPIRY_S + 10) * 1000));
    expect(report.expired).toBe(1);
    expect(await record(chunkUploadId)).toMatchObject({ source: 'chunked', status: 'expired' });
    expect(await progressOf(chunkUploadId)).toMatchObject({ status: 'expired' });
    expect(await storedKeys(t, `chunks/${alice.id}/`)).toEqual([]);
  });

  it('expires a single-request upload left behind by a crash, through its discarder', async () => {
    const mp4 = await readFile((await mediaFixtures()).mp4);
    // What a crash in the middle of POST /api/upload/media leaves: an `uploading` record and its bytes, in tmp/
    // or, where promoting would copy them (S3), already at the media key of their sniffed type.
    const crashed = 'crashed-multipart-1';
    const driver = t.app.get(StorageDriver);
    const staged = driver.promoteCopies
      ? `media/${alice.id}/${crashed}.mp4`
      : `tmp/${alice.id}.${crashed}.part`;
    await t.app.get(MediaRecordsService).create({
      userId: alice.id,
      uploadId: crashed,
      source: 'multipart',
      fileType: 'video',
      expiresAt: new Date(Date.now() + EXPIRY_S * 1000),
    });
    await writeStored(t, staged, mp4.subarray(0, 1000));

    const report = await sweeper.sweep(new Date(Date.now() + (EXPIRY_S + 10) * 1000));
    expect(report.expired).toBe(1);
    expect(await record(crashed)).toMatchObject({ source: 'multipart', status: 'expired' });
    expect(await driver.stat(staged)).toBeUndefined();
  });

  it('deletes stray files in tmp/ untouched for UPLOAD_EXPIRY, and keeps recent ones', async () => {
    await writeStored(t, 'tmp/stray.part', Buffer.from('left by a crash'));
    // The dates the sweeper sees are its listing's (on S3 to the second, and not always the date HEAD answers).
    const listedAt = async (key: string) =>
      (await t.app.get(StorageDriver).list('tmp')).find((object) => object.key === key)!.modifiedAt.getTime();
    const strayAt = await listedAt('tmp/stray.part');
    // The fresh one is (re)written until its listing dates it later than the stray one.
    let freshAt = strayAt;
    await waitFor(async () => {
      await t.app.get(StorageDriver).remove('tmp/fresh.part');
      await writeStored(t, 'tmp/fresh.part', Buffer.from('being written'));
      freshAt = await listedAt('tmp/fresh.part');
      return freshAt > strayAt;
    }, 'a fresh file listed later than the stray one');

    // As of UPLOAD_EXPIRY after a moment between the two: the stray one is past the bound, the fresh one not.
    const report = await sweeper.sweep(new Date((strayAt + freshAt) / 2 + EXPIRY_S * 1000));
    expect({ removed: report.strayFiles, left: await tmpFiles(t) }).toEqual({
      removed: 1,
      left: ['fresh.part'],
    });
  });
});
