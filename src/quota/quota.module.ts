import { Global, Module } from '@nestjs/common';

/** Per-user storage quota (USER_QUOTA_BYTES). */
@Global()
@Module({})
export class QuotaModule {}
