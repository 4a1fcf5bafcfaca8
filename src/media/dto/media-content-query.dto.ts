import { IsMongoId, IsNumberString, IsOptional, IsString, MaxLength } from 'class-validator';

/** The signed-link parameters of GET /api/media/:id/content (all three, or none with a bearer token). */
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
