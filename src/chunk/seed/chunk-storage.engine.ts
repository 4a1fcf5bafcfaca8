import type { Request } from 'express';
import type { StorageEngine } from 'multer';
import { AuthUser } from '../../common/decorators/current-user.decorator';
import { SeedChunkService, StreamedChunk } from './seed-chunk.service';

/** The uploaded file as the route handler sees it: multer's fields plus the streamed chunk's facts. */
export type ChunkFile = Express.Multer.File & { chunk: StreamedChunk };

/**
 * Multer storage engine for POST /api/video/upload: hands the file stream to SeedChunkService, which streams it
 * to disk (never memory) with the limits, hash and progress of its session.
 */
export class ChunkStorageEngine implements StorageEngine {
  constructor(private readonly chunks: SeedChunkService) {}

  _handleFile(
    req: Request,
    file: Express.Multer.File,
    callback: (error?: unknown, info?: Partial<ChunkFile>) => void,
  ): void {
    // The global JWT guard ran before multer, so the caller is known.
    const fields = (req.body ?? {}) as Record<string, unknown>;
    this.chunks.receive(req.user as AuthUser, fields, file.stream).then(
      (chunk) => callback(null, { size: chunk.size, chunk }),
      (error: unknown) => callback(error),
    );
  }

  _removeFile(_req: Request, file: Express.Multer.File, callback: (error: Error | null) => void): void {
    const { chunk } = file as ChunkFile;
    if (!chunk) return callback(null);
    this.chunks.release(chunk).then(
      () => callback(null),
      (error: Error) => callback(error),
    );
  }
}
