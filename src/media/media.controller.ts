import { Controller, Delete, Get, Param, Post, Query, Req, Res, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiHeader, ApiOkResponse, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { AuthUser, CurrentUser } from '../common/decorators/current-user.decorator';
import { Public } from '../common/decorators/public.decorator';
import { ApiErrorResponses } from '../common/openapi/api-error-responses.decorator';
import { UploadIdPipe } from '../common/uploads/upload-id.pipe';
import { ListMediaQueryDto } from './dto/list-media-query.dto';
import { MediaContentQueryDto } from './dto/media-content-query.dto';
import {
  MediaDeletedResponseDto,
  MediaItemResponseDto,
  MediaListResponseDto,
  SignedUrlResponseDto,
} from './dto/media-response.dto';
import { sendMediaContent } from './library/content-response';
import { MediaContentGuard } from './library/media-content.guard';
import { MediaLibraryService } from './library/media-library.service';

/** The bytes of a stored file, whatever their media type (the real one is in Content-Type). */
const FILE_CONTENT = { 'application/octet-stream': { schema: { type: 'string', format: 'binary' } } };
const FILE_HEADERS = {
  'Content-Type': { description: 'The type detected from the content', schema: { type: 'string' } },
  ETag: { description: 'Strong validator for If-None-Match', schema: { type: 'string' } },
  'Accept-Ranges': { description: '`bytes`', schema: { type: 'string' } },
  'Content-Disposition': {
    description: 'RFC 6266 `inline` with the original file name',
    schema: { type: 'string' },
  },
};

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
  @Public()
  @UseGuards(MediaContentGuard)
  @Get(':id/content')
  @ApiHeader({ name: 'Range', required: false, description: 'One byte range, e.g. `bytes=0-1023`' })
  @ApiHeader({
    name: 'If-None-Match',
    required: false,
    description: 'An ETag from an earlier answer (304 if unchanged)',
  })
  @ApiOkResponse({ description: 'The whole file', content: FILE_CONTENT, headers: FILE_HEADERS })
  @ApiResponse({
    status: 206,
    description: 'The requested byte range',
    content: FILE_CONTENT,
    headers: {
      ...FILE_HEADERS,
      'Content-Range': { description: '`bytes 0-1023/52428800`', schema: { type: 'string' } },
    },
  })
  @ApiResponse({ status: 304, description: 'Not modified: If-None-Match matched the ETag' })
  @ApiResponse({
    status: 302,
    description:
      'S3_DOWNLOAD_MODE=redirect (GET only): fetch the bytes from `Location`, a presigned S3 URL valid ' +
      'SIGNED_URL_TTL seconds that serves the same Content-Type, Content-Disposition and byte ranges. ' +
      'Do not send the Authorization header there.',
    headers: {
      Location: { description: 'The presigned S3 URL', schema: { type: 'string', format: 'uri' } },
      'Cache-Control': { description: '`no-store`', schema: { type: 'string' } },
    },
  })
  @ApiErrorResponses(400, 401, 403, 404, 409, 416)
  async getMediaContent(
    @CurrentUser() user: AuthUser,
    @Param('id', UploadIdPipe) id: string,
    @Query() _query: MediaContentQueryDto,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    await sendMediaContent(req, res, await this.library.content(user.userId, id));
  }

  /** A link to the content that works without an Authorization header until `expiresAt` (SIGNED_URL_TTL). */
  @Post(':id/signed-url')
  @ApiErrorResponses(400, 401, 404, 409)
  createSignedUrl(
    @CurrentUser() user: AuthUser,
    @Param('id', UploadIdPipe) id: string,
  ): Promise<SignedUrlResponseDto> {
    return this.library.signedUrl(user.userId, id);
  }

  /** Deletes a finished upload: its file, its progress record and its record. An upload in flight answers 409. */
  @Delete(':id')
  @ApiErrorResponses(400, 401, 404, 409)
  deleteMedia(
    @CurrentUser() user: AuthUser,
    @Param('id', UploadIdPipe) id: string,
  ): Promise<MediaDeletedResponseDto> {
    return this.library.remove(user.userId, id);
  }
}
