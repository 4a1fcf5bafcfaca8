import { findFreePort } from '../../src/embedded/free-port';
import { S3BucketCheckError, S3ObjectStore } from '../../src/storage/s3';
import { S3_SETUP_TIMEOUT_MS, TestS3 } from './s3-test-server';

describe('S3 startup check (real versitygw)', () => {
  let s3: TestS3;
  const stores: S3ObjectStore[] = [];

  beforeAll(async () => {
    s3 = await TestS3.start();
  }, S3_SETUP_TIMEOUT_MS);

  afterAll(async () => {
    for (const store of stores) store.close();
    await s3?.stop();
  });

  async function checkFailure(store: S3ObjectStore): Promise<string> {
    stores.push(store);
    const error = await store.checkBucket().catch((failure: unknown) => failure);
    expect(error).toBeInstanceOf(S3BucketCheckError);
    const message = (error as Error).message;
    expect(message).not.toContain('\n');
    return message;
  }

  it('names the endpoint and says the connection was refused when nothing listens', async () => {
    const port = await findFreePort();
    const message = await checkFailure(
      new S3ObjectStore(s3.options('media', { endpoint: `http://127.0.0.1:${port}` })),
    );
    expect(message).toBe(
      `S3 bucket "media" at http://127.0.0.1:${port} is not usable: the connection was refused (is the S3 server running?)`,
    );
  });

  it('says the bucket does not exist', async () => {
    const message = await checkFailure(new S3ObjectStore(s3.options('no-such-bucket')));
    expect(message).toBe(
      `S3 bucket "no-such-bucket" at ${s3.server.endpoint} is not usable: the bucket does not exist`,
    );
  });

  it('says access was denied for wrong credentials', async () => {
    const store = await s3.store();
    const message = await checkFailure(
      new S3ObjectStore(
        s3.options(store.bucket, { credentials: { accessKeyId: 'wrong', secretAccessKey: 'wrong-secret' } }),
      ),
    );
    expect(message).toMatch(/is not usable: access denied \(\w+: check S3_ACCESS_KEY_ID/);
  });

  it('passes for an existing bucket, and ensureBucket creates a missing one', async () => {
    const store = await s3.store();
    await expect(store.checkBucket()).resolves.toBeUndefined();
    const fresh = new S3ObjectStore(s3.options('created-on-start'));
    stores.push(fresh);
    await fresh.ensureBucket();
    await expect(fresh.checkBucket()).resolves.toBeUndefined();
    await expect(fresh.ensureBucket()).resolves.toBeUndefined();
  });
});
