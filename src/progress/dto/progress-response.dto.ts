import { UPLOAD_SOURCES, UPLOAD_STATUSES } from '../../common/uploads/upload-status';
import { ApiProperty } from '@nestjs/swagger';
import { PROCESSING_STATUSES } from '../../processing';

export class ProcessingProgressDto {
  /** `pending` (queued, or waiting for a retry), `running`, `done` or `failed` (after the last attempt). */
  @ApiProperty({ enum: PROCESSING_STATUSES })
  status!: string;
  /** Why the last attempt failed; kept while a retry is pending. @example "ffmpeg failed (exit 1)" */
  error?: string;
}

export class ProgressResponseDto {
  /** @example true */
  success!: boolean;
  /** @example "vid_20240601_abc123" */
  uploadId!: string;
  @ApiProperty({ enum: UPLOAD_SOURCES })
  source!: string;
  /** Bytes stored so far. @example 26214400 */
  bytesUploaded!: number;
  /** The file's total size; null while unknown. @example 52428800 */
  @ApiProperty({ type: Number, nullable: true })
  totalBytes!: number | null;
  /**
   * True while `totalBytes` is only an upper bound: a multipart upload whose file part came before its fields
   * (the total then counts the fields too). Exact once the file part has ended. @example false
   */
  totalIsEstimate!: boolean;
  /** 0-100, one decimal; 100 only once completed. @example 50 */
  percentComplete!: number;
  @ApiProperty({ enum: UPLOAD_STATUSES })
  status!: string;
  /** Bytes per second over the last 3 seconds. @example 10485760 */
  speed!: number;
  /** Seconds left at the current speed; null when unknown. @example 3 */
  @ApiProperty({ type: Number, nullable: true })
  remainingTime!: number | null;
  startTime!: Date;
  lastUpdateTime!: Date;
  @ApiProperty({ type: Date, nullable: true })
  completedTime!: Date | null;
  /** Why it failed, was cancelled or expired. */
  @ApiProperty({ type: String, nullable: true })
  reason!: string | null;
  /**
   * The background processing (thumbnails, poster, rendition) of a completed upload; null before completion. The
   * SSE stream stays open after `completed` until it is `done` or `failed`.
   */
  @ApiProperty({ type: ProcessingProgressDto, nullable: true })
  processing!: ProcessingProgressDto | null;
}

export class SseTicketResponseDto {
  /** @example true */
  success!: boolean;
  /** Single-use; pass as `?ticket=` to the events route. */
  ticket!: string;
  /** Seconds the ticket stays valid. @example 60 */
  expiresIn!: number;
  /** @example "/api/upload/progress/vid_20240601_abc123/events?ticket=…" */
  eventsUrl!: string;
}

export class CancelResponseDto extends ProgressResponseDto {
  /** @example "Upload cancelled" */
  message!: string;
}
