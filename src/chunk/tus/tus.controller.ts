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
import { ApiBearerAuth, ApiHeader, ApiParam, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { AuthUser, CurrentUser } from '../../common/decorators/current-user.decorator';
import { Public } from '../../common/decorators/public.decorator';
import { ApiErrorResponses } from '../../common/openapi/api-error-responses.decorator';
import { TusService } from './tus.service';

const TUS_RESUMABLE = { name: 'Tus-Resumable', required: true, description: 'Always `1.0.0`' };
const UPLOAD_ID = { name: 'id', description: 'The upload id: the last segment of the creation `Location`' };

/**
 * tus 1.0 resumable uploads (https://tus.io/protocols/resumable-upload), served by @tus/server. Each route hands
 * the raw request to the protocol server; error bodies are the shared JSON error shape.
 */
@ApiTags('tus')
@ApiBearerAuth()
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
  async discoverTus(@Req() req: Request, @Res() res: Response): Promise<void> {
    await this.tus.handle(req, res);
  }

  /** CORS preflight for an upload URL. No token needed. */
  @Public()
  @Options(':id')
  @ApiParam(UPLOAD_ID)
  @HttpCode(HttpStatus.NO_CONTENT)
  async preflightTusUpload(@Req() req: Request, @Res() res: Response): Promise<void> {
    await this.tus.handle(req, res);
  }

  /**
   * Creates an upload (`Upload-Length`, or `Upload-Defer-Length: 1`), optionally with its first bytes
   * (creation-with-upload, `Content-Type: application/offset+octet-stream`). `Upload-Metadata` keys: `filename`,
   * `filetype`, `fileType` (video|photo|camera), `title`, `description`, `chatId`. Answers 201 with `Location`.
   */
  @Post()
  @ApiHeader(TUS_RESUMABLE)
  @ApiResponse({
    status: 201,
    description: 'Created; `Location` is the upload URL, `Upload-Expires` its expiry',
  })
  @ApiErrorResponses(400, 401, 413, 415)
  async createTusUpload(
    @CurrentUser() user: AuthUser,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    await this.tus.handle(req, res, user.userId);
  }

  /** The upload's offset (`Upload-Offset`), length and metadata, to resume it. */
  @Head(':id')
  @ApiParam(UPLOAD_ID)
  @ApiHeader(TUS_RESUMABLE)
  @ApiResponse({ status: 200, description: '`Upload-Offset`, `Upload-Length`, `Upload-Expires`' })
  @ApiErrorResponses(401, 404)
  @ApiResponse({ status: 410, description: 'The upload ended (cancelled, expired or failed)' })
  async getTusOffset(
    @CurrentUser() user: AuthUser,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    await this.tus.handle(req, res, user.userId);
  }

  /**
   * Appends bytes at `Upload-Offset` (`Content-Type: application/offset+octet-stream`), optionally verified by
   * `Upload-Checksum: sha1|sha256 <base64>`. The last PATCH stores the file as media (415 if its content is not
   * an allowed type for its `fileType`).
   */
  @Patch(':id')
  @ApiParam(UPLOAD_ID)
  @ApiHeader(TUS_RESUMABLE)
  @ApiHeader({ name: 'Upload-Offset', required: true, description: 'Bytes already stored' })
  @ApiResponse({ status: 204, description: 'Stored; `Upload-Offset` is the new offset' })
  @ApiErrorResponses(400, 401, 404, 409, 413, 415)
  @ApiResponse({ status: 410, description: 'The upload ended (cancelled, expired or failed)' })
  @ApiResponse({ status: 460, description: 'Checksum mismatch; the chunk was discarded' })
  async appendTusUpload(
    @CurrentUser() user: AuthUser,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    await this.tus.handle(req, res, user.userId);
  }

  /** Terminates an unfinished upload: its bytes are deleted and it ends as `cancelled`. */
  @Delete(':id')
  @ApiParam(UPLOAD_ID)
  @ApiHeader(TUS_RESUMABLE)
  @ApiResponse({ status: 204, description: 'Terminated' })
  @ApiErrorResponses(401, 404)
  async terminateTusUpload(
    @CurrentUser() user: AuthUser,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    await this.tus.handle(req, res, user.userId);
  }

  /** PATCH or DELETE for clients that can only POST (`X-HTTP-Method-Override`). */
  @Post(':id')
  @ApiParam(UPLOAD_ID)
  @ApiHeader({ name: 'X-HTTP-Method-Override', required: true, description: '`PATCH` or `DELETE`' })
  @ApiErrorResponses(400, 401, 404, 409, 413, 415)
  async overrideTusMethod(
    @CurrentUser() user: AuthUser,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    await this.tus.handle(req, res, user.userId);
  }
}
