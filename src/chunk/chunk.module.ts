import { Module } from '@nestjs/common';
import { SeedChunkModule } from './seed/seed-chunk.module';
import { TusModule } from './tus/tus.module';

/** Chunked and resumable uploads: the seed's chunk API and tus 1.0. */
@Module({ imports: [SeedChunkModule, TusModule] })
export class ChunkModule {}
