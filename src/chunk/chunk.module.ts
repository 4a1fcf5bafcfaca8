import { Module } from '@nestjs/common';
import { IetfModule } from './ietf/ietf.module';
import { SeedChunkModule } from './seed/seed-chunk.module';
import { TusModule } from './tus/tus.module';

/** Chunked and resumable uploads: the seed's chunk API, tus 1.0 and the IETF resumable-upload draft. */
@Module({ imports: [SeedChunkModule, TusModule, IetfModule] })
export class ChunkModule {}
