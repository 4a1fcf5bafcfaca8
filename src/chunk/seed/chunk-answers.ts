import { HttpStatus } from '@nestjs/common';
import { ApiError } from '../../common/errors/api-error';
import { ErrorCode } from '../../common/errors/error-code';
import { UploadCancelledError } from '../../progress';
import { isDiskFullError } from '../../storage';
import type { FinishedChunkUpload } from './chunk-finaliser';
import { ChunkErrorCode } from './chunk-rules';
import type { ChunkSessionRecord } from './chunk-sessions.service';
import type { ChunkUploadDataDto } from './dto/chunk-upload-response.dto';
import type { UploadChunkDto } from './dto/upload-chunk.dto';

/** The seed's answer to a committed chunk (and, with `finished`, to the one that completed the upload). */
export function chunkReply(
  dto: UploadChunkDto,
  session: ChunkSessionRecord,
  duplicate: boolean,
  finished?: FinishedChunkUpload,
): ChunkUploadDataDto {
  return {
    message: 'Video chunk uploaded successfully',
    fileId: dto.fileId,
    chunkIndex: dto.chunkIndex,
    status: dto.status,
    uploadId: session.uploadId,
    duplicate,
    receivedCount: session.receivedCount ?? 0,
    nextChunkIndex: session.nextIndex,
    totalChunks: session.totalChunks,
    bytesReceived: session.bytesReceived,
    ...(finished?.facts ?? {}),
  };
}

export function fileRequired(): ApiError {
  return new ApiError(
    HttpStatus.BAD_REQUEST,
    ChunkErrorCode.FILE_REQUIRED,
    'The chunk (field `file`) is missing',
  );
}

export function chunkChecksumMismatch(index: number, expected: string, actual: string): ApiError {
  return new ApiError(
    HttpStatus.UNPROCESSABLE_ENTITY,
    ChunkErrorCode.CHECKSUM_MISMATCH,
    `Chunk ${index} does not match chunkSha256; it was discarded`,
    { expected, actual },
  );
}

/** A session takes chunks only while uploading. */
export function assertOpen(session: ChunkSessionRecord): void {
  if (session.status === 'uploading') return;
  if (session.status === 'completed') {
    throw new ApiError(
      HttpStatus.CONFLICT,
      ChunkErrorCode.UPLOAD_COMPLETED,
      'This upload is already complete',
      {
        uploadId: session.uploadId,
      },
    );
  }
  throw new ApiError(HttpStatus.CONFLICT, ChunkErrorCode.UPLOAD_ENDED, `This upload was ${session.status}`, {
    uploadId: session.uploadId,
    uploadStatus: session.status,
  });
}

/** Cancellation and a full disk as HTTP errors; everything else as it is. */
export function asHttpError(error: unknown): unknown {
  if (error instanceof UploadCancelledError) {
    return new ApiError(HttpStatus.CONFLICT, ChunkErrorCode.UPLOAD_CANCELLED, 'The upload was cancelled');
  }
  if (isDiskFullError(error)) {
    return new ApiError(
      HttpStatus.INSUFFICIENT_STORAGE,
      ErrorCode.INSUFFICIENT_STORAGE,
      'The server is out of storage',
    );
  }
  return error;
}
