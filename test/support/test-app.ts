import { NestFactory } from '@nestjs/core';
import { NestExpressApplication } from '@nestjs/platform-express';
import { getConnectionToken } from '@nestjs/mongoose';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Connection } from 'mongoose';
import { AppModule } from '../../src/app.module';
import { configureApp } from '../../src/bootstrap/configure-app';
import type { EnvOverrides } from '../../src/config';
import { bucketFor, removeSharedBucket, sharedBucketEnv, testStorage, TestStorage } from './test-storage';

/** Fixed in tests so a restarted app accepts earlier tokens, and so tests can forge tokens on purpose. */
export const TEST_JWT_SECRET = 'test-secret-that-is-at-least-32-characters-long';

export interface TestApp {
  app: NestExpressApplication;
  /** Base URL of the app, listening on 127.0.0.1. */
  url: string;
  uploadDir: string;
  dbName: string;
  /** Where upload bytes are stored: local disk (uploadDir), or `bucket` on the e2e-s3 project's versitygw. */
  storage: TestStorage;
  bucket?: string;
  connection: Connection;
  /** Stops the app; keeps the database, upload folder and bucket (for restart tests). */
  stop(): Promise<void>;
  /** Stops the app, drops its database and removes its upload folder (and bucket). */
  close(): Promise<void>;
}

export interface TestAppOptions {
  env?: EnvOverrides;
  /** Reuse a database and upload folder, to restart an app over the same state. */
  dbName?: string;
  uploadDir?: string;
}

export function testDatabaseUri(): string {
  const uri = process.env.MONGODB_URI ?? process.env.TEST_MONGODB_URI;
  if (!uri) throw new Error('No database server: run the tests through jest (global setup starts one)');
  return uri;
}

export function uniqueDbName(): string {
  return `test_${randomBytes(6).toString('hex')}`;
}

/**
 * Boots the real AppModule, configured exactly as main.ts does, against the test database server. In the e2e-s3
 * project (TEST_STORAGE=s3) it stores on a bucket named after its database (so a restart over the same database
 * finds its bytes), unless `env` names another STORAGE_DRIVER.
 */
export async function createTestApp(options: TestAppOptions = {}): Promise<TestApp> {
  const dbName = options.dbName ?? uniqueDbName();
  const uploadDir = options.uploadDir ?? (await mkdtemp(join(tmpdir(), 'media-upload-test-')));
  const onS3 = testStorage() === 's3' && options.env?.STORAGE_DRIVER === undefined;
  const bucket = onS3 ? bucketFor(dbName) : undefined;
  const storageEnv = bucket ? await sharedBucketEnv(bucket) : {};
  const app = await NestFactory.create<NestExpressApplication>(
    await AppModule.forRoot({
      NODE_ENV: 'test',
      LOG_LEVEL: 'silent',
      MONGODB_URI: testDatabaseUri(),
      MONGODB_DB: dbName,
      UPLOAD_DIR: uploadDir,
      JWT_SECRET: TEST_JWT_SECRET,
      MIN_FREE_DISK_BYTES: '0',
      // Every test file comes from 127.0.0.1 and reuses its users: rate limits are tested on purpose, with low values.
      THROTTLE_AUTH_LIMIT: '100000',
      THROTTLE_UPLOAD_LIMIT: '100000',
      ...storageEnv,
      ...options.env,
    }),
    { bodyParser: false, logger: false },
  );
  configureApp(app);
  await app.listen(0, '127.0.0.1');
  const url = await app.getUrl();
  const connection = app.get<Connection>(getConnectionToken());
  const stop = () => app.close();
  return {
    app,
    url: url.replace('[::1]', '127.0.0.1'),
    uploadDir,
    dbName,
    storage: bucket ? 's3' : 'local',
    bucket,
    connection,
    stop,
    close: async () => {
      await connection.dropDatabase().catch(() => undefined);
      await stop();
      await rm(uploadDir, { recursive: true, force: true });
      if (bucket) await removeSharedBucket(bucket);
    },
  };
}
