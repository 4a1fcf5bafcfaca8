import { Module } from '@nestjs/common';

/** The seed's chunk API at /api/video/*. */
@Module({})
export class SeedChunkModule {}
