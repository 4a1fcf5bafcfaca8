import {
  CreateMultipartUploadCommand,
  ListMultipartUploadsCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import type { S3ObjectStore } from '../../src/storage/s3';
import { ExpirySweeper } from '../../src/sweeper/expiry-sweeper.service';
import { S3_SETUP_TIMEOUT_MS, TestS3 } from '../s3/s3-test-server';
import { waitFor } from '../media/support/stored-state';
import { s3AppEnv } from '../support/s3-app';
import { createTestApp, TestApp } from '../support/test-app';

const EXPIRY_S = 60;

/** Multipart uploads a crashed process left in the bucket are billed until aborted: the sweeper aborts them. */
describe('Expiry sweeper on STORAGE_DRIVER=s3 (real versitygw)', () => {
  let s3: TestS3;
  let store: S3ObjectStore;
  let client: S3Client;
  let t: TestApp;
  let sweeper: ExpirySweeper;

  beforeAll(async () => {
    s3 = await TestS3.start();
    store = await s3.store();
    client = s3.client();
    t = await createTestApp({ env: { ...s3AppEnv(s3, store.bucket), UPLOAD_EXPIRY: String(EXPIRY_S) } });
    sweeper = t.app.get(ExpirySweeper);
  }, S3_SETUP_TIMEOUT_MS);

  afterAll(async () => {
    client?.destroy();
    await t?.close();
    await s3?.stop();
  });

  /** Starts a multipart upload straight through the SDK, as a process that then crashed would have. */
  async function startMultipart(key: string, withPart = false): Promise<void> {
    const { UploadId } = await client.send(
      new CreateMultipartUploadCommand({ Bucket: store.bucket, Key: key }),
    );
    if (withPart) {
      await client.send(
        new UploadPartCommand({
          Bucket: store.bucket,
          Key: key,
          UploadId,
          PartNumber: 1,
          Body: Buffer.alloc(1024, 7),
        }),
      );
    }
  }

  async function incomplete(): Promise<Map<string, Date>> {
    const page = await client.send(new ListMultipartUploadsCommand({ Bucket: store.bucket }));
    return new Map((page.Uploads ?? []).map((upload) => [upload.Key!, upload.Initiated!]));
  }

  it('aborts multipart uploads under tmp/, chunks/, tus/ and media/ older than UPLOAD_EXPIRY; younger ones stay', async () => {
    // media/: a single-request upload streams straight to its final key on S3 (StorageDriver.promoteCopies).
    const stale = ['tmp/u1.crashed.part', 'chunks/u1/s1/data', 'tus/abandoned', 'media/u1/crashed.mp4'];
    for (const key of stale) await startMultipart(key, key.startsWith('tmp/'));
    const staleStart = Math.max(...[...(await incomplete()).values()].map((date) => date.getTime()));

    // S3 dates multipart uploads to the second: the fresh one must start in a later second. Two seconds on: one CI
    // run saw versitygw date an upload started a second after the stale ones' second with that same second.
    await waitFor(() => Promise.resolve(Date.now() >= staleStart + 2000), 'a later second', 10_000);
    await startMultipart('tmp/u1.fresh.part');
    expect((await incomplete()).get('tmp/u1.fresh.part')!.getTime()).toBeGreaterThan(staleStart);

    // As of UPLOAD_EXPIRY after a moment between the two: the stale ones are past the bound, the fresh one not.
    const report = await sweeper.sweep(new Date(staleStart + 500 + EXPIRY_S * 1000));
    expect(report.abortedWrites).toBe(stale.length);
    expect([...(await incomplete()).keys()]).toEqual(['tmp/u1.fresh.part']);

    const later = await sweeper.sweep(new Date(Date.now() + (EXPIRY_S + 10) * 1000));
    expect(later.abortedWrites).toBe(1);
    expect([...(await incomplete()).keys()]).toEqual([]);
  });
});
