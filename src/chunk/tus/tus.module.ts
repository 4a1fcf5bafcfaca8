import { Module } from '@nestjs/common';

/** tus 1.0 at /api/tus, on @tus/server. */
@Module({})
export class TusModule {}
