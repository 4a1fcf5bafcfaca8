import { Module } from '@nestjs/common';
import { MongooseModule } from '@nestjs/mongoose';
import type { MulterModuleOptions } from '@nestjs/platform-express';
import { MULTER_MODULE_OPTIONS } from '@nestjs/platform-express/multer/files.constants';
import { guardedStreamHandler } from '../../common/uploads/multipart-field-names';
import { MediaModule } from '../../media';
import { ProgressModule } from '../../progress';
import { ChunkAssembly } from './chunk-assembly';
import { ChunkFinaliser } from './chunk-finaliser';
import { ChunkLifecycle } from './chunk-lifecycle.service';
import { ChunkManifest } from './chunk-manifest';
import { ChunkSessionsService } from './chunk-sessions.service';
import { ChunkStorageEngine } from './chunk-storage.engine';
import { ReleaseChunkOnErrorInterceptor } from './release-chunk-on-error.interceptor';
import { ChunkSession, ChunkSessionSchema } from './schemas/chunk-session.schema';
import { SeedChunkController } from './seed-chunk.controller';
import { SeedChunkService } from './seed-chunk.service';

/** Multipart limits: one file, a handful of short text fields (the chunk's own size is limited by the engine). */
const LIMITS = { files: 1, fields: 16, parts: 20, fieldNameSize: 64, fieldSize: 8 * 1024 };

/** The seed's chunk API at /api/video/*. Owns the chunk_sessions collection. */
@Module({
  imports: [
    MongooseModule.forFeature([{ name: ChunkSession.name, schema: ChunkSessionSchema }]),
    MediaModule,
    ProgressModule,
  ],
  controllers: [SeedChunkController],
  providers: [
    SeedChunkService,
    ChunkSessionsService,
    ChunkAssembly,
    ChunkFinaliser,
    ChunkLifecycle,
    ChunkManifest,
    ReleaseChunkOnErrorInterceptor,
    {
      // Module-scoped options for this module's FileInterceptor: the engine needs the (injected) service.
      provide: MULTER_MODULE_OPTIONS,
      inject: [SeedChunkService],
      useFactory: (chunks: SeedChunkService): MulterModuleOptions => ({
        storage: new ChunkStorageEngine(chunks),
        limits: LIMITS,
        // Refuses `__proto__`-style part names with 400 (multer would drop them silently).
        ...{ streamHandler: guardedStreamHandler },
      }),
    },
  ],
})
export class SeedChunkModule {}
