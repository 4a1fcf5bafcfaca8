import { Controller, Delete, Get, HttpCode, HttpStatus, Param, Post, Query, Req, Res } from '@nestjs/common';
import { ApiAcceptedResponse, ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { AuthUser, CurrentUser } from '../common/decorators/current-user.decorator';
import { ApiErrorResponses } from '../common/openapi/api-error-responses.decorator';
import { UploadIdPipe } from '../common/uploads/upload-id.pipe';
import { ListMediaQueryDto } from './dto/list-media-query.dto';
import { MediaContentQueryDto, ThumbnailQueryDto } from './dto/media-content-query.dto';
import {
  MediaDeletedResponseDto,
  MediaItemResponseDto,
  MediaListResponseDto,
  SignedUrlResponseDto,
} from './dto/media-response.dto';
import { sendMediaContent } from './library/content-response';
import { MediaFileRoute } from './media-file-route.decorator';
import { MediaLibraryService } from './library/media-library.service';

@ApiTags('media')
@ApiBearerAuth()
@Controller('media')
export class MediaController {
  constructor(private readonly library: MediaLibraryService) {}

  /** The caller's uploads of every kind, newest first, with cursor pagination and filters. */
  @Get()
  @ApiErrorResponses(400, 401)
  listMedia(@CurrentUser() user: AuthUser, @Query() query: ListMediaQueryDto): Promise<MediaListResponseDto> {
    return this.library.list(user.userId, query);
  }

  /** One of the caller's uploads. */
  @Get(':id')
  @ApiErrorResponses(400, 401, 404)
  getMedia(
    @CurrentUser() user: AuthUser,
    @Param('id', UploadIdPipe) id: string,
  ): Promise<MediaItemResponseDto> {
    return this.library.get(user.userId, id);
  }

  /**
   * The file itself, with byte ranges (206/416), ETag + If-None-Match (304), the detected Content-Type and an
   * RFC 6266 Content-Disposition. Authenticate with `Authorization: Bearer` or with a signed link from
   * POST /api/media/:id/signed-url (no header needed). With S3_DOWNLOAD_MODE=redirect a GET answers 302 to a
   * presigned S3 URL instead.
   */
  @MediaFileRoute(':id/content', ['application/octet-stream'], 'The whole file')
  async getMediaContent(
    @CurrentUser() user: AuthUser,
    @Param('id', UploadIdPipe) id: string,
    @Query() _query: MediaContentQueryDto,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    await sendMediaContent(req, res, await this.library.content(user.userId, id));
  }

  /**
   * A thumbnail: `small` (WebP, ~250 px on the longest side) or `preview` (WebP, ~1440 px), upright. Same
   * authentication as the content (the content's signed link query works here too); cacheable for a year, its
   * URL never serves other bytes. 409 `DERIVED_NOT_READY` while processing is pending or running, 404 when there is
   * none (processing failed).
   */
  @MediaFileRoute(':id/thumbnail', ['image/webp'], 'The thumbnail')
  async getMediaThumbnail(
    @CurrentUser() user: AuthUser,
    @Param('id', UploadIdPipe) id: string,
    @Query() query: ThumbnailQueryDto,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    const name = query.size === 'preview' ? 'thumbnailPreview' : 'thumbnailSmall';
    await sendMediaContent(req, res, await this.library.derived(user.userId, id, name));
  }

  /**
   * A video's poster frame (JPEG, full size, upright), for `<video poster>`. Authenticated and cached like the
   * thumbnail; 404 for a photo or a video without one, 409 `DERIVED_NOT_READY` while processing is pending/running.
   */
  @MediaFileRoute(':id/poster', ['image/jpeg'], 'The poster frame')
  async getMediaPoster(
    @CurrentUser() user: AuthUser,
    @Param('id', UploadIdPipe) id: string,
    @Query() _query: MediaContentQueryDto,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    await sendMediaContent(req, res, await this.library.derived(user.userId, id, 'poster'));
  }

  /**
   * The version every browser can show: a JPEG of a HEIC photo, an MP4 with its index first (faststart), a WebM
   * with its duration and cues; the original itself when it needs none, or when processing failed. Ranges for
   * players, ETag revalidation like the content. 409 `DERIVED_NOT_READY` while processing is pending or running.
   */
  @MediaFileRoute(
    ':id/rendition',
    ['video/mp4', 'video/webm', 'video/quicktime', 'image/jpeg', 'application/octet-stream'],
    'The browser-ready file (or the original)',
  )
  async getMediaRendition(
    @CurrentUser() user: AuthUser,
    @Param('id', UploadIdPipe) id: string,
    @Query() _query: MediaContentQueryDto,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    await sendMediaContent(req, res, await this.library.derived(user.userId, id, 'rendition'));
  }

  /**
   * Runs the upload's processing (thumbnails, poster, rendition) again from its first attempt: after it `failed`
   * (the error is on the media), or to remake its files. Answers the media with `processing.status: pending`; follow
   * it with GET /api/media/:id or the progress SSE. 409 `PROCESSING_IN_PROGRESS` while it is pending or running,
   * 409 `MEDIA_NOT_READY` for an upload that did not complete.
   */
  @Post(':id/reprocess')
  @HttpCode(HttpStatus.ACCEPTED)
  @ApiAcceptedResponse({ type: MediaItemResponseDto, description: 'Processing queued again' })
  @ApiErrorResponses(400, 401, 404, 409)
  reprocessMedia(
    @CurrentUser() user: AuthUser,
    @Param('id', UploadIdPipe) id: string,
  ): Promise<MediaItemResponseDto> {
    return this.library.reprocess(user.userId, id);
  }

  /**
   * A link to the content that works without an Authorization header until `expiresAt` (SIGNED_URL_TTL), and the
   * same for its thumbnails, poster and rendition (one signature covers every file of this media, no other's).
   */
  @Post(':id/signed-url')
  @ApiErrorResponses(400, 401, 404, 409)
  createSignedUrl(
    @CurrentUser() user: AuthUser,
    @Param('id', UploadIdPipe) id: string,
  ): Promise<SignedUrlResponseDto> {
    return this.library.signedUrl(user.userId, id);
  }

  /**
   * Deletes a finished upload: its file, its derived files, its progress record and its record. An upload in flight
   * answers 409.
   */
  @Delete(':id')
  @ApiErrorResponses(400, 401, 404, 409)
  deleteMedia(
    @CurrentUser() user: AuthUser,
    @Param('id', UploadIdPipe) id: string,
  ): Promise<MediaDeletedResponseDto> {
    return this.library.remove(user.userId, id);
  }
}
