export { startEmbeddedS3Server } from './embedded-s3-server';
export type { EmbeddedS3Options, RunningS3Server } from './embedded-s3-server';
export { S3ObjectStore } from './s3-object-store';
export type { ByteRange, ObjectRead, StoredObject } from './object-types';
export { MAX_PARTS, MIN_PART_BYTES } from './s3-multipart-store';
export type { IncompleteUpload, MultipartRef, UploadedPart } from './s3-multipart-store';
export {
  ObjectNotFoundError,
  RangeNotSatisfiableError,
  S3BucketCheckError,
  StorageUnavailableError,
} from './s3-errors';
export { s3StoreOptions } from './s3-store-options';
export type { S3StoreOptions } from './s3-store-options';
export { ensureVersitygw, VERSITYGW_VERSION } from './versitygw-installer';
