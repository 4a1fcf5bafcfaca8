import { ApiProperty } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsMongoId, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';
import {
  MEDIA_CATEGORIES,
  MediaCategory,
  UPLOAD_STATUSES,
  UploadStatus,
} from '../../common/uploads/upload-status';

/** GET /api/media query; unknown keys are rejected by the global validation pipe. */
export class ListMediaQueryDto {
  /** Page size, 1-100. @example 20 */
  @ApiProperty({ type: 'integer', required: false, minimum: 1, maximum: 100, default: 20 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(100)
  limit: number = 20;

  /** `nextCursor` of the previous page. */
  @IsOptional()
  @IsString()
  @MaxLength(200)
  cursor?: string;

  @ApiProperty({ enum: MEDIA_CATEGORIES, required: false })
  @IsOptional()
  @IsIn(MEDIA_CATEGORIES)
  fileType?: MediaCategory;

  @ApiProperty({ enum: UPLOAD_STATUSES, required: false })
  @IsOptional()
  @IsIn(UPLOAD_STATUSES)
  status?: UploadStatus;

  /** Only media of this chat (ObjectId). */
  @IsOptional()
  @IsMongoId()
  chatId?: string;
}
