import type { EnvOverrides } from '../../src/config';
import type { RunningS3Server } from '../../src/storage/s3';
import type { TestS3 } from '../s3/s3-test-server';

/** What the app needs to reach an S3 server: a test file's own versitygw, or the e2e-s3 project's shared one. */
export type S3ServerAccess = Pick<RunningS3Server, 'endpoint' | 'region' | 'credentials'>;

/** The app's environment for STORAGE_DRIVER=s3 on `bucket` of `server`. */
export function s3ServerEnv(server: S3ServerAccess, bucket: string): EnvOverrides {
  return {
    STORAGE_DRIVER: 's3',
    S3_ENDPOINT: server.endpoint,
    S3_REGION: server.region,
    S3_BUCKET: bucket,
    S3_ACCESS_KEY_ID: server.credentials.accessKeyId,
    S3_SECRET_ACCESS_KEY: server.credentials.secretAccessKey,
    S3_FORCE_PATH_STYLE: 'true',
  };
}

/** The app's environment for STORAGE_DRIVER=s3 on `bucket` of a test versitygw. */
export function s3AppEnv(s3: TestS3, bucket: string): EnvOverrides {
  return s3ServerEnv(s3.server, bucket);
}
