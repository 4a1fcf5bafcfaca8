import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsMongoId, IsNumberString, IsOptional, IsString, MaxLength } from 'class-validator';

/**
 * The signed-link parameters of GET /api/media/:id/content, /poster and /rendition (all three, or none with a bearer
 * token).
 */
export class MediaContentQueryDto {
  /** Unix time (seconds) after which the link stops working. */
  @IsOptional()
  @IsNumberString({ no_symbols: true })
  @MaxLength(12)
  expires?: string;

  /** The owner the link was issued to. */
  @IsOptional()
  @IsMongoId()
  uid?: string;

  /** HMAC-SHA256 of the upload id, uid and expires. */
  @IsOptional()
  @IsString()
  @MaxLength(100)
  signature?: string;
}

export const THUMBNAIL_SIZES = ['small', 'preview'] as const;

/** GET /api/media/:id/thumbnail: which size, plus the signed-link parameters. */
export class ThumbnailQueryDto extends MediaContentQueryDto {
  /** `small` (~250 px on the longest side, the default) or `preview` (~1440 px). */
  @ApiPropertyOptional({ enum: THUMBNAIL_SIZES, default: 'small' })
  @IsOptional()
  @IsIn(THUMBNAIL_SIZES)
  size?: (typeof THUMBNAIL_SIZES)[number];
}
