import type { EnvOverrides } from '../../src/config';
import type { TestS3 } from '../s3/s3-test-server';

/** The app's environment for STORAGE_DRIVER=s3 on `bucket` of a test versitygw. */
export function s3AppEnv(s3: TestS3, bucket: string): EnvOverrides {
  return {
    STORAGE_DRIVER: 's3',
    S3_ENDPOINT: s3.server.endpoint,
    S3_REGION: s3.server.region,
    S3_BUCKET: bucket,
    S3_ACCESS_KEY_ID: s3.server.credentials.accessKeyId,
    S3_SECRET_ACCESS_KEY: s3.server.credentials.secretAccessKey,
    S3_FORCE_PATH_STYLE: 'true',
  };
}
