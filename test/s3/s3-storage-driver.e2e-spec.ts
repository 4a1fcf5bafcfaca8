import { randomBytes } from 'node:crypto';
import { PassThrough, Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { S3StorageDriver } from '../../src/storage';
import { StorageUnavailableError } from '../../src/storage/s3';
import { assemblyContract, storageDriverContract } from '../../src/storage/storage-driver.contract';
import { patternStream, S3_SETUP_TIMEOUT_MS, TestS3 } from './s3-test-server';

const MiB = 1024 * 1024;

describe('S3StorageDriver (real versitygw)', () => {
  let s3: TestS3;
  let driver: S3StorageDriver;
  let bucket: string;

  beforeAll(async () => {
    s3 = await TestS3.start();
  }, S3_SETUP_TIMEOUT_MS);
  afterAll(() => s3?.stop());

  beforeEach(async () => {
    bucket = `driver-${randomBytes(6).toString('hex')}`;
    driver = new S3StorageDriver({
      store: s3.options(bucket),
      downloadMode: 'stream',
      downloadTtlSeconds: 60,
      createBucket: true,
    });
    await driver.onModuleInit();
  });
  afterEach(() => driver.onModuleDestroy());

  describe('the StorageDriver contract', () => storageDriverContract(() => driver));
  describe('the Assembly contract', () =>
    assemblyContract(() => driver, {
      unfinishedWrites: () => s3.incompleteUploads(bucket),
      keptSegmentBytes: () => s3.options(bucket).partSizeBytes,
    }));

  it('streams a multi-part object in, and reads a range across a part boundary', async () => {
    const size = 2 * 8 * MiB + 123;
    const writable = driver.openWrite('tmp/big.part');
    let finishedWhileIncomplete = false;
    writable.once('finish', () => {
      // 'finish' means S3 already has the object: nothing is still being completed.
      void s3.incompleteUploads(bucket).then((count) => (finishedWhileIncomplete = count > 0));
    });
    await pipeline(patternStream(size), writable);
    expect((await driver.stat('tmp/big.part'))?.size).toBe(size);
    expect(finishedWhileIncomplete).toBe(false);
    const slice = await new Promise<Buffer>((resolve, reject) => {
      const chunks: Buffer[] = [];
      driver
        .openRead('tmp/big.part', { start: 8 * MiB - 10, end: 8 * MiB + 9 })
        .on('data', (chunk: Buffer) => chunks.push(chunk))
        .on('end', () => resolve(Buffer.concat(chunks)))
        .on('error', reject);
    });
    const whole = Buffer.concat(await patternStream(size).toArray());
    expect(slice).toEqual(whole.subarray(8 * MiB - 10, 8 * MiB + 10));
  });

  it('a write destroyed part-way leaves no object and no multipart upload', async () => {
    const source = new PassThrough();
    const writable = driver.openWrite('tmp/cut.part');
    const closed = new Promise((resolve) => writable.once('close', resolve));
    writable.on('error', () => undefined);
    source.pipe(writable);
    source.write(Buffer.alloc(9 * MiB));
    // Wait for the first part to be sent, so a multipart upload exists.
    await waitFor(async () => (await s3.incompleteUploads(bucket)) === 1);
    writable.destroy(new Error('client went away'));
    await closed;
    expect(await s3.incompleteUploads(bucket)).toBe(0);
    expect(await driver.stat('tmp/cut.part')).toBeUndefined();
  });

  it('removePrefix aborts incomplete multipart uploads under it', async () => {
    const store = driver.store;
    const ref = await store.createMultipart('chunks/u1/s1/data');
    await store.createMultipart('chunks/u1/s10/data');
    expect(await s3.incompleteUploads(bucket)).toBe(2);
    await driver.removePrefix('chunks/u1/s1');
    expect(await s3.incompleteUploads(bucket)).toBe(1);
    await store.abortMultipart(ref);
  });

  it('aborts the incomplete writes a crashed process left under a prefix, once they are old enough', async () => {
    await driver.store.createMultipart('tmp/u1.crashed.part');
    await driver.store.createMultipart('media/u1/kept.mp4');
    expect(await driver.abortIncompleteWrites('tmp', new Date(Date.now() - 60_000))).toBe(0);
    expect(await driver.abortIncompleteWrites('tmp', new Date(Date.now() + 60_000))).toBe(1);
    expect(await s3.incompleteUploads(bucket)).toBe(1);
    await driver.removePrefix('media/u1');
  });

  it('answers a presigned URL in redirect mode', async () => {
    const redirecting = new S3StorageDriver({
      store: s3.options(bucket),
      downloadMode: 'redirect',
      downloadTtlSeconds: 60,
    });
    try {
      await pipeline(Readable.from([Buffer.from('signed bytes')]), driver.openWrite('media/u1/a.jpg'));
      const url = await redirecting.downloadUrl('media/u1/a.jpg');
      expect(url).toMatch(/X-Amz-Signature=/);
      const response = await fetch(url as string);
      expect(await response.text()).toBe('signed bytes');
    } finally {
      redirecting.onModuleDestroy();
    }
  });

  it('fails startup with one line when the bucket is missing, and S3 failures are StorageUnavailableError', async () => {
    const missing = new S3StorageDriver({
      store: s3.options('no-such-bucket'),
      downloadMode: 'stream',
      downloadTtlSeconds: 60,
    });
    try {
      await expect(missing.onModuleInit()).rejects.toThrow(
        /^S3 bucket "no-such-bucket" at .* the bucket does not exist$/,
      );
      await expect(missing.readHead('tmp/x', 4)).rejects.toBeInstanceOf(StorageUnavailableError);
    } finally {
      missing.onModuleDestroy();
    }
  });
});

async function waitFor(condition: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
