import {
  Controller,
  Delete,
  Head,
  HttpCode,
  HttpStatus,
  Options,
  Patch,
  Post,
  Req,
  Res,
} from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiBody,
  ApiConsumes,
  ApiHeader,
  ApiParam,
  ApiResponse,
  ApiTags,
} from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { AuthUser, CurrentUser } from '../../common/decorators/current-user.decorator';
import { Public } from '../../common/decorators/public.decorator';
import { ApiErrorResponses } from '../../common/openapi/api-error-responses.decorator';
import { RateLimit } from '../../rate-limit';
import { UploadBody } from '../../upload-limits';
import { TusService } from './tus.service';

const TUS_RESUMABLE = {
  name: 'Tus-Resumable',
  required: true,
  description: 'Always `1.0.0`',
  example: '1.0.0',
};
const UPLOAD_ID = {
  name: 'id',
  type: String,
  description: 'The upload id: the last segment of the creation `Location`',
  example: 'Jx3k2mQ9b0d7VZ5sYtWc1g',
};
const UPLOAD_CHECKSUM = {
  name: 'Upload-Checksum',
  required: false,
  description: "`sha1 <base64>` or `sha256 <base64>` of this request's bytes; a mismatch answers 460",
};
const OFFSET_CONTENT_TYPE = {
  name: 'Content-Type',
  required: false,
  description: '`application/offset+octet-stream` when the request carries bytes',
};
/** A response header (OpenAPI header object). */
const header = (description: string) => ({ description, schema: { type: 'string' } });
const BYTES_BODY = { schema: { type: 'string', format: 'binary' }, required: false };

/**
 * tus 1.0 resumable uploads (https://tus.io/protocols/resumable-upload), served by @tus/server. Each route hands
 * the raw request to the protocol server; error bodies are the shared JSON error shape.
 */
@ApiTags('tus')
@Controller('tus')
export class TusController {
  constructor(private readonly tus: TusService) {}

  /**
   * Discovery (`Tus-Version`, `Tus-Extension`, `Tus-Max-Size`, `Tus-Checksum-Algorithm`) and CORS preflight.
   * No token needed.
   */
  @Public()
  @Options()
  @HttpCode(HttpStatus.NO_CONTENT)
  @ApiResponse({
    status: 204,
    description: 'What the server supports',
    headers: {
      'Tus-Resumable': header('`1.0.0`'),
      'Tus-Version': header('`1.0.0`'),
      'Tus-Extension': header(
        '`creation,creation-with-upload,creation-defer-length,termination,expiration,checksum,concatenation`',
      ),
      'Tus-Max-Size': header('MAX_RESUMABLE_BYTES'),
      'Tus-Checksum-Algorithm': header('`sha1,sha256`'),
    },
  })
  async discoverTus(@Req() req: Request, @Res() res: Response): Promise<void> {
    await this.tus.handle(req, res);
  }

  /** CORS preflight for an upload URL. No token needed. */
  @Public()
  @Options(':id')
  @ApiParam(UPLOAD_ID)
  @HttpCode(HttpStatus.NO_CONTENT)
  @ApiResponse({ status: 204, description: 'CORS preflight answer' })
  async preflightTusUpload(@Req() req: Request, @Res() res: Response): Promise<void> {
    await this.tus.handle(req, res);
  }

  /**
   * Creates an upload (`Upload-Length`, or `Upload-Defer-Length: 1`), optionally with its first bytes
   * (creation-with-upload, `Content-Type: application/offset+octet-stream`). `Upload-Metadata` keys: `filename`,
   * `filetype`, `fileType` (video|photo|camera; without it `filetype` picks it: `image/*` photo, `video/*` video,
   * else camera), `title`, `description`, `chatId`. Answers 201 with `Location` (absolute from PUBLIC_URL or a
   * trusted proxy, else relative). Parallel uploads (tus concatenation): `Upload-Concat: partial` creates a slice of a
   * file, never media on its own; `Upload-Concat: final;<url> <url> …` (no Upload-Length, no body) joins the caller's
   * complete partial uploads in that order into one upload, stored as media before the 201, and removes them.
   */
  @Post()
  @RateLimit('upload')
  @UploadBody()
  @ApiBearerAuth()
  @ApiHeader(TUS_RESUMABLE)
  @ApiHeader({
    name: 'Upload-Length',
    required: false,
    description: 'Total size in bytes (or send Upload-Defer-Length)',
  })
  @ApiHeader({
    name: 'Upload-Defer-Length',
    required: false,
    description: '`1` when the size is not known yet',
  })
  @ApiHeader({
    name: 'Upload-Metadata',
    required: false,
    description:
      'Comma-separated `key base64(value)` pairs: filename, filetype, fileType, title, description, chatId',
    example: 'filename Y2xpcC5tcDQ=,fileType dmlkZW8=',
  })
  @ApiHeader({
    name: 'Upload-Concat',
    required: false,
    description:
      '`partial` for a slice of a parallel upload, or `final;<url> <url> …` (absolute or path URLs of your complete partial uploads) to join them',
    example: 'final;/api/tus/Jx3k2mQ9b0d7VZ5sYtWc1g /api/tus/Pq8Rt2mQ9b0d7VZ5sYtWc1h',
  })
  @ApiHeader(UPLOAD_CHECKSUM)
  @ApiHeader(OFFSET_CONTENT_TYPE)
  @ApiConsumes('application/offset+octet-stream')
  @ApiBody(BYTES_BODY)
  @ApiResponse({
    status: 201,
    description: 'Created; `Location` is the upload URL, `Upload-Expires` its expiry',
    headers: {
      Location: header(
        'The upload URL, `…/api/tus/<id>`; `<id>` is also the uploadId for progress and cancel',
      ),
      'Upload-Offset': header('Bytes stored (non-zero with creation-with-upload)'),
      'Upload-Concat': header("`partial`, or the final upload's `final;<url> …`, as sent"),
      'Upload-Expires': header('RFC 7231 date after which an unfinished upload is deleted'),
      'Tus-Resumable': header('`1.0.0`'),
    },
  })
  @ApiErrorResponses(400, 401, 404, 410, 412, 413, 415, 507)
  async createTusUpload(
    @CurrentUser() user: AuthUser,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    await this.tus.handle(req, res, user.userId);
  }

  /**
   * The upload's offset (`Upload-Offset`), length and metadata, to resume it. A finished upload answers too, with
   * `Upload-Offset` = `Upload-Length`, while its media exist: a client whose last response was lost then succeeds.
   */
  @Head(':id')
  @ApiBearerAuth()
  @ApiParam(UPLOAD_ID)
  @ApiHeader(TUS_RESUMABLE)
  @ApiResponse({
    status: 200,
    description: 'Where to resume',
    headers: {
      'Upload-Offset': header('Bytes stored: send the next PATCH from here'),
      'Upload-Length': header('Total size, once known'),
      'Upload-Metadata': header('The metadata sent at creation'),
      'Upload-Concat': header('`partial` for a partial upload, `final;<url> …` for a final one'),
      'Upload-Expires': header('When the unfinished upload expires'),
      'Cache-Control': header('`no-store`'),
    },
  })
  @ApiErrorResponses(400, 401, 404, 412)
  @ApiErrorResponses(410)
  async getTusOffset(
    @CurrentUser() user: AuthUser,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    await this.tus.handle(req, res, user.userId);
  }

  /**
   * Appends bytes at `Upload-Offset` (`Content-Type: application/offset+octet-stream`), optionally verified by
   * `Upload-Checksum: sha1|sha256 <base64>`. The content is checked once its first 4100 bytes are in: 415 then,
   * and the upload ends, when it is not an allowed type for its `fileType`. The last PATCH stores the file as media;
   * repeated on the finished upload at its full offset, it answers 204 and stores nothing. A partial upload's content
   * is checked once its final upload joins it; a final upload takes no PATCH (403).
   */
  @Patch(':id')
  @UploadBody()
  @ApiBearerAuth()
  @ApiParam(UPLOAD_ID)
  @ApiHeader(TUS_RESUMABLE)
  @ApiHeader({ name: 'Upload-Offset', required: true, description: 'Bytes already stored' })
  @ApiHeader({ ...OFFSET_CONTENT_TYPE, required: true })
  @ApiHeader(UPLOAD_CHECKSUM)
  @ApiHeader({
    name: 'Upload-Length',
    required: false,
    description: 'The total size, if creation deferred it',
  })
  @ApiConsumes('application/offset+octet-stream')
  @ApiBody({ ...BYTES_BODY, required: true })
  @ApiResponse({
    status: 204,
    description: 'Stored; `Upload-Offset` is the new offset',
    headers: {
      'Upload-Offset': header('The new offset'),
      'Upload-Expires': header('When the unfinished upload expires'),
    },
  })
  @ApiErrorResponses(400, 401, 403, 404, 409, 412, 413, 415)
  @ApiErrorResponses(410, 460, 507)
  async appendTusUpload(
    @CurrentUser() user: AuthUser,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    await this.tus.handle(req, res, user.userId);
  }

  /** Terminates an unfinished upload: its bytes are deleted and it ends as `cancelled`. */
  @Delete(':id')
  @ApiBearerAuth()
  @ApiParam(UPLOAD_ID)
  @ApiHeader(TUS_RESUMABLE)
  @ApiResponse({ status: 204, description: 'Terminated' })
  @ApiErrorResponses(400, 401, 404, 412)
  async terminateTusUpload(
    @CurrentUser() user: AuthUser,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    await this.tus.handle(req, res, user.userId);
  }

  /** PATCH or DELETE for clients that can only POST (`X-HTTP-Method-Override`). */
  @Post(':id')
  @UploadBody()
  @ApiBearerAuth()
  @ApiParam(UPLOAD_ID)
  @ApiHeader({ name: 'X-HTTP-Method-Override', required: true, description: '`PATCH` or `DELETE`' })
  @ApiErrorResponses(400, 401, 404, 409, 412, 413, 415, 507)
  @ApiErrorResponses(410, 460)
  async overrideTusMethod(
    @CurrentUser() user: AuthUser,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    await this.tus.handle(req, res, user.userId);
  }
}
