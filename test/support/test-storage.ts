import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { EnvOverrides } from '../../src/config';
import { S3ObjectStore } from '../../src/storage/s3';
import { S3ServerAccess, s3ServerEnv } from './s3-app';

/**
 * Which storage `createTestApp` boots the app on. The e2e-s3 Jest project sets TEST_STORAGE=s3 for its test files
 * (s3-project.setup.ts, inside each file's sandbox); every other run stores on local disk.
 */
export type TestStorage = 'local' | 's3';

export function testStorage(): TestStorage {
  return process.env.TEST_STORAGE === 's3' ? 's3' : 'local';
}

/** The versitygw the e2e-s3 project's global setup started once per run, as the workers inherit it. */
export interface SharedS3 extends S3ServerAccess {
  /** The posix backend's root: each bucket is a folder in it. */
  dataDir: string;
}

export const SHARED_S3_ENV = 'TEST_S3_SERVER';

export function sharedS3(): SharedS3 {
  const described = process.env[SHARED_S3_ENV];
  if (!described)
    throw new Error('No S3 server: run the e2e-s3 project through jest (its global setup starts one)');
  return JSON.parse(described) as SharedS3;
}

/** A bucket named after the app's database, so an app restarted over the same database finds its bytes again. */
export function bucketFor(dbName: string): string {
  return dbName.toLowerCase().replace(/[^a-z0-9-]/g, '-');
}

/** Creates `bucket` on the shared server (if missing) and answers the app's environment for it. */
export async function sharedBucketEnv(bucket: string): Promise<EnvOverrides> {
  const server = sharedS3();
  const store = new S3ObjectStore({
    endpoint: server.endpoint,
    region: server.region,
    bucket,
    credentials: server.credentials,
    forcePathStyle: true,
    partSizeBytes: 5 * 1024 * 1024,
    queueSize: 1,
  });
  try {
    await store.ensureBucket();
  } finally {
    store.close();
  }
  return s3ServerEnv(server, bucket);
}

/** Removes a bucket and everything in it (the posix backend keeps a bucket as a folder). */
export async function removeSharedBucket(bucket: string): Promise<void> {
  await rm(join(sharedS3().dataDir, bucket), { recursive: true, force: true });
}
