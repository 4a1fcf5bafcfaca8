import { ApiProperty } from '@nestjs/swagger';
import { CHUNK_STATUSES } from './upload-chunk.dto';

/** The seed's `data`, plus what a client needs to carry on. */
export class ChunkUploadDataDto {
  /** @example "Video chunk uploaded successfully" */
  message!: string;
  /** @example "upload_1234567890_abc123" */
  fileId!: string;
  /** @example 0 */
  chunkIndex!: number;
  /** The request's status, echoed as in the seed. */
  @ApiProperty({ enum: CHUNK_STATUSES })
  status!: string;
  /** Server id of the upload: for progress, cancel and the media library. @example "Jx3k2mQ9b0d7VZ5sYtWc1g" */
  uploadId!: string;
  /** True when this chunk had already been received with the same bytes (nothing changed). */
  duplicate!: boolean;
  /** How many chunks the server holds. @example 1 */
  receivedCount!: number;
  /** First chunk index the server does not hold yet. @example 1 */
  nextChunkIndex!: number;
  /** Declared number of chunks, or null. */
  @ApiProperty({ type: Number, nullable: true })
  totalChunks!: number | null;
  /** Bytes of all chunks held. @example 1048576 */
  bytesReceived!: number;
  /** Once completed: the authenticated content URL. @example "/api/media/Jx3k2mQ9b0d7VZ5sYtWc1g/content" */
  fileUrl?: string;
  /** Once completed: size of the assembled file. */
  fileSize?: number;
  /** Once completed: the sniffed MIME type. @example "video/webm" */
  mimeType?: string;
  /** Once completed: stored name, `<uploadId>.<ext>` with the extension taken from the content. */
  fileName?: string;
  /** Once completed: SHA-256 of the assembled file. */
  checksumSha256?: string;
}

export class ChunkUploadResponseDto {
  /** @example true */
  success!: boolean;
  data!: ChunkUploadDataDto;
}
