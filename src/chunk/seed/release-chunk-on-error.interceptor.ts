import { CallHandler, ExecutionContext, Injectable, NestInterceptor } from '@nestjs/common';
import type { Request } from 'express';
import { catchError, from, Observable, switchMap, throwError } from 'rxjs';
import { ChunkFile } from './chunk-storage.engine';
import { SeedChunkService } from './seed-chunk.service';

/**
 * When validation refuses a request after its chunk was streamed, deletes the chunk before the error is answered
 * (multer's own clean-up runs only after the response), so a refused request leaves nothing on disk.
 */
@Injectable()
export class ReleaseChunkOnErrorInterceptor implements NestInterceptor {
  constructor(private readonly chunks: SeedChunkService) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const request = context.switchToHttp().getRequest<Request>();
    return next.handle().pipe(
      catchError((error: unknown) => {
        const chunk = (request.file as ChunkFile | undefined)?.chunk;
        if (!chunk) return throwError(() => error);
        return from(this.chunks.release(chunk).catch(() => undefined)).pipe(
          switchMap(() => throwError(() => error)),
        );
      }),
    );
  }
}
