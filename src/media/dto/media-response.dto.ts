import { ApiProperty } from '@nestjs/swagger';
import { MEDIA_CATEGORIES, UPLOAD_SOURCES, UPLOAD_STATUSES } from '../../common/uploads/upload-status';

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
