import { Global, Module } from '@nestjs/common';
import { LocalDiskDriver } from './local-disk.driver';
import { StorageDriver } from './storage-driver';

/** Provides the StorageDriver (the abstract class is the DI token); the local disk is the only driver today. */
@Global()
@Module({ providers: [{ provide: StorageDriver, useClass: LocalDiskDriver }], exports: [StorageDriver] })
export class StorageModule {}
