import { buildAppConfig } from '../../config/app-config';
import { ConfigValidationError, validateEnv } from '../../config/validate-env';
import { s3StoreOptions } from './s3-store-options';

describe('S3 configuration', () => {
  it('defaults to the local driver, with bounded S3 part buffering', () => {
    const config = buildAppConfig(validateEnv({}));
    expect(config.storageDriver).toBe('local');
    expect(config.s3).toMatchObject({
      region: 'us-east-1',
      forcePathStyle: false,
      partSizeBytes: 8 * 1024 * 1024,
      queueSize: 2,
      downloadMode: 'stream',
    });
    expect(config.s3.credentials).toBeUndefined();
  });

  it('builds the store options from a complete S3 environment', () => {
    const config = buildAppConfig(
      validateEnv({
        STORAGE_DRIVER: 's3',
        S3_ENDPOINT: 'http://127.0.0.1:7070/',
        S3_BUCKET: 'media-uploads',
        S3_ACCESS_KEY_ID: 'key',
        S3_SECRET_ACCESS_KEY: 'secret',
        S3_FORCE_PATH_STYLE: 'true',
        S3_QUEUE_SIZE: '4',
      }),
    );
    expect(s3StoreOptions(config.s3)).toMatchObject({
      endpoint: 'http://127.0.0.1:7070',
      bucket: 'media-uploads',
      credentials: { accessKeyId: 'key', secretAccessKey: 'secret' },
      forcePathStyle: true,
      queueSize: 4,
    });
  });

  it.each([
    [{ STORAGE_DRIVER: 's3' }, 'S3_BUCKET'],
    [{ STORAGE_DRIVER: 's3', S3_BUCKET: 'Bad_Bucket' }, 'S3_BUCKET'],
    [{ STORAGE_DRIVER: 'gcs' }, 'STORAGE_DRIVER'],
    [{ S3_ENDPOINT: '127.0.0.1:7070' }, 'S3_ENDPOINT'],
    [{ S3_ACCESS_KEY_ID: 'key' }, 'S3_SECRET_ACCESS_KEY'],
    [{ S3_SECRET_ACCESS_KEY: 'secret' }, 'S3_ACCESS_KEY_ID'],
    [{ S3_PART_SIZE: String(1024 * 1024) }, 'S3_PART_SIZE'],
    [{ S3_FORCE_PATH_STYLE: 'yes' }, 'S3_FORCE_PATH_STYLE'],
    [{ S3_DOWNLOAD_MODE: 'proxy' }, 'S3_DOWNLOAD_MODE'],
  ])('rejects %p with one line naming %s', (raw, name) => {
    let error: unknown;
    try {
      validateEnv(raw);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigValidationError);
    expect((error as Error).message).toMatch(new RegExp(`^Invalid configuration: ${name} \\(`));
    expect((error as Error).message).not.toContain('\n');
  });
});
