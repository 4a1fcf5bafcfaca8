import { ApiProperty } from '@nestjs/swagger';
import { UPLOAD_STATUSES } from '../../../common/uploads/upload-status';

/** The seed's status fields, plus everything a client needs to resume. */
export class ChunkStatusDataDto {
  /** @example "upload_1234567890_abc123" */
  fileId!: string;
  /** Whether the caller has a session with this fileId (another user's is never visible). */
  exists!: boolean;
  /** Bytes held: received so far, or the final size once completed; 0 once cancelled or expired. */
  fileSize!: number;
  /** Last change of the session, or null. */
  @ApiProperty({ type: Date, nullable: true })
  lastModified!: Date | null;
  @ApiProperty({ enum: UPLOAD_STATUSES, nullable: true })
  status!: string | null;
  @ApiProperty({ type: String, nullable: true })
  uploadId!: string | null;
  /** Indexes received, sorted. @example [0, 1, 3] */
  receivedChunks!: number[];
  /** First index not received: where a sequential client resumes. @example 2 */
  nextChunkIndex!: number;
  @ApiProperty({ type: Number, nullable: true })
  totalChunks!: number | null;
  /** Indexes below the highest one received (or below totalChunks) that are missing, at most 1000. @example [2] */
  missingChunks!: number[];
  /** The authenticated content URL, once completed. */
  @ApiProperty({ type: String, nullable: true })
  fileUrl!: string | null;
}

export class ChunkStatusResponseDto {
  /** @example true */
  success!: boolean;
  data!: ChunkStatusDataDto;
}
