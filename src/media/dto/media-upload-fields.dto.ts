import { ApiProperty } from '@nestjs/swagger';
import { IsIn, IsMongoId, IsOptional, IsString, MaxLength } from 'class-validator';
import { MEDIA_CATEGORIES, MediaCategory } from '../../common/uploads/upload-status';

export const MAX_TITLE_LENGTH = 200;
export const MAX_DESCRIPTION_LENGTH = 5000;

/** The text fields of POST /api/upload/media (the seed's form fields). */
export class MediaUploadFieldsDto {
  /** What the client says it uploads; the content must match (camera accepts photos and videos). */
  @ApiProperty({ enum: MEDIA_CATEGORIES, example: 'video' })
  @IsIn(MEDIA_CATEGORIES)
  fileType!: MediaCategory;

  /** Up to 200 characters. @example "My Video" */
  @IsOptional()
  @IsString()
  @MaxLength(MAX_TITLE_LENGTH)
  title?: string;

  /** Up to 5000 characters. @example "Test video" */
  @IsOptional()
  @IsString()
  @MaxLength(MAX_DESCRIPTION_LENGTH)
  description?: string;

  /** Chat the media belongs to (ObjectId). @example "507f1f77bcf86cd799439011" */
  @IsOptional()
  @IsMongoId()
  chatId?: string;

  /** Group the media belongs to (ObjectId). @example "507f1f77bcf86cd799439012" */
  @IsOptional()
  @IsMongoId()
  groupId?: string;
}

/** The whole multipart body, for the OpenAPI spec only (multer takes `file`, the fields go through validation). */
export class MediaUploadBodyDto extends MediaUploadFieldsDto {
  /** The photo or video; its type is detected from its content, never from its name or Content-Type. */
  @ApiProperty({ type: 'string', format: 'binary' })
  file!: unknown;
}
