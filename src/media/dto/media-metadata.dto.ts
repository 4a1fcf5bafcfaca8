import { ApiProperty } from '@nestjs/swagger';

/** What the service learned about a file's content; every field is null when the file does not have it. */
export class MediaMetadataDto {
  /** The container or image format. @example "mp4" */
  @ApiProperty({ type: String, nullable: true })
  container!: string | null;
  /** Seconds; null for photos. @example 12.48 */
  @ApiProperty({ type: Number, nullable: true })
  duration!: number | null;
  /** Pixels as displayed, i.e. after rotation / EXIF orientation. @example 1080 */
  @ApiProperty({ type: Number, nullable: true })
  width!: number | null;
  /** Pixels as displayed. @example 1920 */
  @ApiProperty({ type: Number, nullable: true })
  height!: number | null;
  /** Degrees clockwise a player turns the stored frames (0, 90, 180, 270). @example 90 */
  @ApiProperty({ type: Number, nullable: true })
  rotation!: number | null;
  /** @example "h264" */
  @ApiProperty({ type: String, nullable: true })
  videoCodec!: string | null;
  /** @example "aac" */
  @ApiProperty({ type: String, nullable: true })
  audioCodec!: string | null;
  /** Bits per second, the whole file. @example 2500000 */
  @ApiProperty({ type: Number, nullable: true })
  bitrate!: number | null;
  /** Frames per second of the video stream. @example 29.97 */
  @ApiProperty({ type: Number, nullable: true })
  frameRate!: number | null;
  /** When the photo or video was taken (EXIF or the container's creation time). @example "2024-06-01T10:15:00.000Z" */
  @ApiProperty({ type: Date, nullable: true })
  capturedAt!: Date | null;
  /** EXIF orientation (1-8) of a photo. @example 6 */
  @ApiProperty({ type: Number, nullable: true })
  orientation!: number | null;
  /** @example "Apple" */
  @ApiProperty({ type: String, nullable: true })
  cameraMake!: string | null;
  /** @example "iPhone 15" */
  @ApiProperty({ type: String, nullable: true })
  cameraModel!: string | null;
}
