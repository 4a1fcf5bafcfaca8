import type { AppConfig } from '../../config';

/** What the S3 store needs: AppConfig's `s3` section with the bucket required. */
export type S3StoreOptions = Omit<AppConfig['s3'], 'bucket' | 'downloadMode'> & { bucket: string };

/** The store options from the app's configuration; the bucket is validated at boot with STORAGE_DRIVER=s3. */
export function s3StoreOptions(config: AppConfig['s3']): S3StoreOptions {
  if (!config.bucket) throw new Error('S3_BUCKET is not set');
  return { ...config, bucket: config.bucket };
}
