export { isDiskFullError } from './disk-errors';
export { UnsafePathError } from './safe-path';
export * from './storage-driver';
export {
  derivedKey,
  derivedPrefix,
  keySegments,
  mediaKey,
  storageKey,
  type StorageArea,
} from './storage-key';
export { StorageModule } from './storage.module';
export { S3StorageDriver, type S3DriverOptions } from './s3-storage.driver';
export {
  S3BucketCheckError,
  S3ObjectStore,
  startEmbeddedS3Server,
  type EmbeddedS3Options,
  type RunningS3Server,
} from './s3';
