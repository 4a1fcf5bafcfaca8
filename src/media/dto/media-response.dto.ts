import { ApiProperty } from '@nestjs/swagger';
import { MEDIA_CATEGORIES, UPLOAD_SOURCES, UPLOAD_STATUSES } from '../../common/uploads/upload-status';
import { PROCESSING_STATUSES } from '../../processing';
import { MediaMetadataDto } from './media-metadata.dto';

/** Where the background work on a completed upload (thumbnails, poster, rendition) stands. */
export class ProcessingViewDto {
  /** `pending` or `running`: the derived files are coming; `done`; `failed` (after PROCESSING_ATTEMPTS tries). */
  @ApiProperty({ enum: PROCESSING_STATUSES, example: 'done' })
  status!: string;
  /** Why the last attempt failed; absent otherwise. @example "ffmpeg timed out" */
  error?: string;
}

/** One upload as the media library shows it (the storage path stays internal). */
export class MediaResponseDto {
  /** @example "vid_20240601_abc123" */
  uploadId!: string;
  @ApiProperty({ enum: UPLOAD_SOURCES })
  source!: string;
  @ApiProperty({ enum: MEDIA_CATEGORIES })
  fileType!: string;
  /** @example "My Video" */
  title!: string;
  /** @example "Test video" */
  description!: string;
  @ApiProperty({ type: String, nullable: true })
  chatId!: string | null;
  @ApiProperty({ type: String, nullable: true })
  groupId!: string | null;
  /** The client's file name, for display only. @example "Declaração.mp4" */
  @ApiProperty({ type: String, nullable: true })
  originalName!: string | null;
  /** Stored name: `<uploadId>.<detected extension>`. @example "vid_20240601_abc123.mp4" */
  @ApiProperty({ type: String, nullable: true })
  fileName!: string | null;
  /** Detected from the content. @example "video/mp4" */
  @ApiProperty({ type: String, nullable: true })
  mimeType!: string | null;
  /** @example 52428800 */
  @ApiProperty({ type: Number, nullable: true })
  fileSize!: number | null;
  /** Hex SHA-256 of the stored bytes. */
  @ApiProperty({ type: String, nullable: true })
  checksumSha256!: string | null;
  /** The authenticated content route. @example "/api/media/vid_20240601_abc123/content" */
  fileUrl!: string;
  @ApiProperty({ enum: UPLOAD_STATUSES })
  status!: string;
  /** Why the upload failed, was cancelled or expired. */
  @ApiProperty({ type: String, nullable: true })
  failureReason!: string | null;
  uploadedAt!: Date;
  @ApiProperty({ type: Date, nullable: true })
  completedAt!: Date | null;
  @ApiProperty({ type: Date, nullable: true })
  cancelledAt!: Date | null;
  /** What the content is, probed when the upload completed; null before that. */
  @ApiProperty({ type: MediaMetadataDto, nullable: true })
  metadata!: MediaMetadataDto | null;
  /** The background processing of a completed upload; null for one that is not completed. */
  @ApiProperty({ type: ProcessingViewDto, nullable: true })
  processing!: ProcessingViewDto | null;
  /**
   * The small thumbnail (WebP, ~250 px on the longest side, upright); null until it exists.
   * @example "/api/media/vid_20240601_abc123/thumbnail"
   */
  @ApiProperty({ type: String, nullable: true })
  thumbnailUrl!: string | null;
  /**
   * The preview (WebP, ~1440 px on the longest side, upright); null until it exists.
   * @example "/api/media/vid_20240601_abc123/thumbnail?size=preview"
   */
  @ApiProperty({ type: String, nullable: true })
  previewUrl!: string | null;
  /**
   * A video's poster frame (JPEG); null until it exists, and always for photos.
   * @example "/api/media/vid_20240601_abc123/poster"
   */
  @ApiProperty({ type: String, nullable: true })
  posterUrl!: string | null;
  /**
   * The version every browser can show (a JPEG of a HEIC, a faststart MP4, a seekable WebM, or the original when it
   * already is one); null until processing is done (then show `fileUrl`, e.g. when processing failed).
   * @example "/api/media/vid_20240601_abc123/rendition"
   */
  @ApiProperty({ type: String, nullable: true })
  renditionUrl!: string | null;
}

export class MediaItemResponseDto {
  /** @example true */
  success!: boolean;
  media!: MediaResponseDto;
}

export class MediaListResponseDto {
  /** @example true */
  success!: boolean;
  /** Newest first. */
  items!: MediaResponseDto[];
  /** Pass as `cursor` for the next page; null on the last page. */
  @ApiProperty({ type: String, nullable: true })
  nextCursor!: string | null;
}

export class MediaDeletedResponseDto {
  /** @example true */
  success!: boolean;
  /** @example "Media deleted" */
  message!: string;
  /** @example "vid_20240601_abc123" */
  uploadId!: string;
}

export class SignedUrlResponseDto {
  /** @example true */
  success!: boolean;
  /** The content route with `expires`, `uid` and `signature`; works without an Authorization header. */
  url!: string;
  /** When the link stops working. */
  expiresAt!: Date;
  /** The small thumbnail, signed the same way; null when the media has none (yet). */
  @ApiProperty({ type: String, nullable: true })
  thumbnailUrl!: string | null;
  /** The preview, signed; null when the media has none (yet). */
  @ApiProperty({ type: String, nullable: true })
  previewUrl!: string | null;
  /** The poster, signed; null when the media has none. */
  @ApiProperty({ type: String, nullable: true })
  posterUrl!: string | null;
  /** The rendition, signed; null until processing is done. */
  @ApiProperty({ type: String, nullable: true })
  renditionUrl!: string | null;
}

/** The seed's 201 body, field for field, plus what the server learned about the file. */
export class MediaUploadResponseDto {
  /** @example true */
  success!: boolean;
  /** @example "Media uploaded successfully" */
  message!: string;
  /** @example "vid_20240601_abc123" */
  uploadId!: string;
  /** The authenticated content route. @example "/api/media/vid_20240601_abc123/content" */
  fileUrl!: string;
  /** Stored name: `<uploadId>.<detected extension>`. @example "vid_20240601_abc123.mp4" */
  fileName!: string;
  @ApiProperty({ enum: MEDIA_CATEGORIES })
  fileType!: string;
  /** @example 52428800 */
  fileSize!: number;
  /** Detected from the content. @example "video/mp4" */
  mimeType!: string;
  /** Hex SHA-256 of the stored bytes. */
  checksumSha256!: string;
  @ApiProperty({ type: String, nullable: true })
  originalName!: string | null;
  /** @example "completed" */
  status!: string;
  title!: string;
  description!: string;
  @ApiProperty({ type: String, nullable: true })
  chatId!: string | null;
  @ApiProperty({ type: String, nullable: true })
  groupId!: string | null;
  uploadedAt!: Date;
  completedAt!: Date;
}
