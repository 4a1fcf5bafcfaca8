import { ApiProperty } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Matches, MaxLength, Min } from 'class-validator';
import { MEDIA_CATEGORIES, MediaCategory } from '../../../common/uploads/upload-status';
import { FILE_ID_MESSAGE, FILE_ID_PATTERN } from '../chunk-rules';

export const CHUNK_STATUSES = ['uploading', 'completed'] as const;
export type ChunkStatus = (typeof CHUNK_STATUSES)[number];

/** Multipart fields are strings: only plain decimal digits become a number ("", "1e3" and " 1" stay invalid). */
const toInteger = ({ value }: { value: unknown }) =>
  typeof value === 'string' && /^\d{1,9}$/.test(value) ? Number(value) : value;

/** The text fields of POST /api/video/upload (the seed's four, plus optional ones). */
export class UploadChunkDto {
  /** The client's id for this upload; scoped to the caller. @example "upload_1234567890_abc123" */
  @IsString()
  @Matches(FILE_ID_PATTERN, { message: FILE_ID_MESSAGE })
  fileId!: string;

  /** 0-based position of this chunk, below 10 000 (MAX_CHUNKS_PER_SESSION: 400 TOO_MANY_CHUNKS). @example 0 */
  @Transform(toInteger)
  @IsInt()
  @Min(0)
  chunkIndex!: number;

  /** `completed` on the last chunk finalises the upload. */
  @ApiProperty({ enum: CHUNK_STATUSES })
  @IsIn(CHUNK_STATUSES)
  status!: ChunkStatus;

  /** Number of chunks of the whole upload, when the client knows it (enables percentComplete); at most 10 000. @example 12 */
  @IsOptional()
  @Transform(toInteger)
  @IsInt()
  @Min(1)
  totalChunks?: number;

  /** Hex SHA-256 of this chunk; a mismatch discards the chunk with 422. */
  @IsOptional()
  @Matches(/^[A-Fa-f0-9]{64}$/, { message: 'chunkSha256 must be 64 hex characters' })
  chunkSha256?: string;

  /** Title of the media (taken from the first chunk). @example "Team meeting" */
  @IsOptional()
  @IsString()
  @MaxLength(200)
  title?: string;

  /** Description of the media (taken from the first chunk). */
  @IsOptional()
  @IsString()
  @MaxLength(2000)
  description?: string;

  /** What the media is; the assembled file must sniff as an allowed type of it. Default `video`. */
  @ApiProperty({ enum: MEDIA_CATEGORIES, required: false, default: 'video' })
  @IsOptional()
  @IsIn(MEDIA_CATEGORIES)
  fileType?: MediaCategory;
}

/** The multipart body as documented: the fields plus the chunk bytes. */
export class UploadChunkBodyDto extends UploadChunkDto {
  /** The chunk's bytes (optional only on a bare `status=completed` request that just finalises). */
  @ApiProperty({ type: 'string', format: 'binary' })
  file!: unknown;
}
