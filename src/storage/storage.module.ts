import { Global, Module } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { AppConfig } from '../config';
import { LocalDiskDriver } from './local-disk.driver';
import { S3StorageDriver } from './s3-storage.driver';
import { s3StoreOptions } from './s3';
import { StorageDriver } from './storage-driver';

/** The driver STORAGE_DRIVER names (local disk by default); the abstract class is the DI token. */
export function createStorageDriver(config: ConfigService<AppConfig, true>): StorageDriver {
  if (config.get('storageDriver', { infer: true }) !== 's3') return new LocalDiskDriver(config);
  const s3 = config.get('s3', { infer: true });
  return new S3StorageDriver({
    store: s3StoreOptions(s3),
    downloadMode: s3.downloadMode,
    downloadTtlSeconds: config.get('uploads', { infer: true }).signedUrlTtlSeconds,
  });
}

@Global()
@Module({
  providers: [{ provide: StorageDriver, inject: [ConfigService], useFactory: createStorageDriver }],
  exports: [StorageDriver],
})
export class StorageModule {}
