import { ListMultipartUploadsCommand, S3Client } from '@aws-sdk/client-s3';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { S3ObjectStore } from '../../src/storage/s3';
import { startUpload, videoParts } from '../media/support/multipart-upload';
import { waitFor } from '../media/support/stored-state';
import { largeMp4Like } from '../support/fixtures';
import { s3AppEnv } from '../support/s3-app';
import { createTestApp, TestApp } from '../support/test-app';
import { registerUser, TestUser } from '../support/users';
import { S3_SETUP_TIMEOUT_MS, TestS3 } from './s3-test-server';

const MiB = 1024 * 1024;
const UPLOADS = 200;
const CONCURRENCY = 20;
/** S3's smallest part: the storm is about what an abort leaves behind, so each client sends as little as it can. */
const PART_BYTES = 5 * MiB;
/** Declared file size: more than one part, so each upload opens a multipart upload. */
const FILE_BYTES = PART_BYTES + MiB;
/** The client dies here, once the first part is full and the multipart upload exists. */
const ABORT_AT = PART_BYTES + 256 * 1024;
// Alone on a 2-core machine the storm takes about a minute; beside another Jest worker, over three.
const STORM_BUDGET_MS = 300_000;
const SETTLE_MS = 40_000;

/** Many clients vanishing mid-body while their multipart uploads are open must leave nothing behind. */
describe('STORAGE_DRIVER=s3: a storm of client aborts mid-multipart (real versitygw)', () => {
  let s3: TestS3;
  let store: S3ObjectStore;
  let client: S3Client;
  let t: TestApp;
  let users: TestUser[];
  let dir: string;
  let file: string;

  beforeAll(async () => {
    s3 = await TestS3.start();
    store = await s3.store();
    client = s3.client();
    t = await createTestApp({ env: { ...s3AppEnv(s3, store.bucket), S3_PART_SIZE: String(PART_BYTES) } });
    // Spread over users so MAX_CONCURRENT_UPLOADS_PER_USER (20) is never what ends an upload.
    users = await Promise.all(Array.from({ length: 10 }, (_, i) => registerUser(t.url, `storm${i}`)));
    dir = await mkdtemp(join(tmpdir(), 's3-storm-'));
    file = await largeMp4Like(dir, FILE_BYTES);
  }, S3_SETUP_TIMEOUT_MS);
  afterAll(async () => {
    client?.destroy();
    await t?.close();
    await s3?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  /** Keys of the multipart uploads still open under `prefix`. */
  const openUploads = async (prefix = '') => {
    const page = await client.send(new ListMultipartUploadsCommand({ Bucket: store.bucket, Prefix: prefix }));
    return (page.Uploads ?? []).map((upload) => upload.Key);
  };
  const uploadingRecords = () =>
    t.connection.collection('media_uploads').countDocuments({ status: 'uploading' });
  const localTmp = () => readdir(join(t.uploadDir, 'tmp')).catch(() => [] as string[]);

  /** One client: sends the head of the body, waits until S3 holds its multipart upload, then drops the socket. */
  async function abortOne(index: number, deadline: number): Promise<void> {
    if (Date.now() > deadline)
      throw new Error(`the storm overran its ${STORM_BUDGET_MS} ms budget at upload ${index}`);
    const user = users[index % users.length];
    const uploadId = `storm-${String(index).padStart(4, '0')}`;
    const running = startUpload(t.url, {
      parts: videoParts(file),
      headers: { ...user.auth, 'X-Upload-Id': uploadId },
      pauseAt: ABORT_AT,
    });
    await running.paused;
    // On S3 a single-request upload streams straight to its media key (StorageDriver.promoteCopies).
    const key = `media/${user.id}/${uploadId}.mp4`;
    // Slow polling: twenty of these run at once, and each listing is work for the S3 server.
    while ((await openUploads(key)).length === 0) {
      if (Date.now() > deadline) throw new Error(`no multipart upload opened for ${uploadId}`);
      await sleep(250);
    }
    running.abort();
    const outcome = await running.result;
    expect(outcome.error).toBeDefined();
  }

  it(
    `${UPLOADS} uploads aborted by the client mid-body leave no multipart upload, object, tmp file or open record`,
    async () => {
      const started = Date.now();
      const deadline = started + STORM_BUDGET_MS;
      let next = 0;
      const worker = async () => {
        while (next < UPLOADS) await abortOne(next++, deadline);
      };
      await Promise.all(Array.from({ length: CONCURRENCY }, worker));
      const stormMs = Date.now() - started;

      await waitFor(async () => (await uploadingRecords()) === 0, 'no record left uploading', SETTLE_MS);
      let left: (string | undefined)[] = [];
      await waitFor(
        async () => (left = await openUploads()).length === 0,
        'every multipart upload aborted',
        SETTLE_MS,
      ).catch((error: Error) => {
        throw new Error(
          `${error.message}: ${left.length} still open ${Date.now() - started - stormMs} ms after the storm, e.g. ${left.slice(0, 3).join(', ')}`,
        );
      });
      await waitFor(async () => (await store.list('')).length === 0, 'an empty bucket', SETTLE_MS);
      const settledMs = Date.now() - started - stormMs;

      // What a client abort does today: both records end `failed` with CLIENT_DISCONNECTED (none removed).
      const records = await t.connection
        .collection('media_uploads')
        .find({ uploadId: /^storm-/ })
        .toArray();
      expect(records).toHaveLength(UPLOADS);
      expect(records.filter((record) => record.status !== 'failed')).toEqual([]);
      expect(
        records.filter((record) => !String(record.failureReason).includes('CLIENT_DISCONNECTED')),
      ).toEqual([]);
      const progress = await t.connection
        .collection('upload_progress')
        .find({ uploadId: /^storm-/ })
        .toArray();
      expect(progress).toHaveLength(UPLOADS);
      expect(progress.filter((record) => record.status !== 'failed')).toEqual([]);
      expect(await localTmp()).toEqual([]);
      process.stderr.write(
        `[s3 abort storm] ${UPLOADS} aborts in ${stormMs} ms, settled ${settledMs} ms later\n`,
      );
    },
    STORM_BUDGET_MS + 3 * SETTLE_MS + 30_000,
  );
});
