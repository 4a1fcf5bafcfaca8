import { Controller, Delete, Head, Options, Param, Patch, Post, Req, Res, UseFilters } from '@nestjs/common';
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
import { STATUS_CODES } from 'node:http';
import { AuthUser, CurrentUser } from '../../common/decorators/current-user.decorator';
import { Public } from '../../common/decorators/public.decorator';
import { ApiErrorResponses } from '../../common/openapi/api-error-responses.decorator';
import { UploadIdPipe } from '../../common/uploads/upload-id.pipe';
import { MediaUploadResponseDto } from '../../media';
import { RateLimit } from '../../rate-limit';
import { UploadBody } from '../../upload-limits';
import { exposeDraftHeaders } from './ietf-cors';
import { IetfProblemFilter } from './ietf-problem.filter';
import { IetfUploadsService, Reply } from './ietf-uploads.service';
import type { IetfAnswer } from './ietf-completion';

const header = (description: string) => ({ description, schema: { type: 'string' } });
const UPLOAD_ID = { name: 'id', type: String, description: 'The upload id: the last segment of `Location`' };
const UPLOAD_COMPLETE = {
  name: 'Upload-Complete',
  required: true,
  description: '`?1` when this request carries the rest of the file, else `?0` (sf-boolean)',
};
const UPLOAD_LENGTH = {
  name: 'Upload-Length',
  required: false,
  description: 'Total size in bytes, once known',
};
const BYTES = { schema: { type: 'string', format: 'binary' }, required: false };
const LIMIT = header(
  '`max-size=<MAX_RESUMABLE_BYTES>, min-append-size=<MIN_RESUMABLE_APPEND_BYTES>, max-age=<seconds left>`',
);
const COMPLETE = header('`?1` (complete) or `?0`');

/** Writes an answer of the service: status, header fields, the upload JSON when complete. */
function answer(res: Response, { status, headers, body }: IetfAnswer): void {
  exposeDraftHeaders(res);
  res.status(status).set(headers);
  if (body) res.json(body);
  else res.end();
}

// Node names the status line of a code it does not know `unknown`; 104 is the draft's (an IANA suggestion so far).
STATUS_CODES[104] ??= 'Upload Resumption Supported';

function replyOf(res: Response): Reply {
  return {
    interim: (status, headers) => res.writeInformation(status, headers),
    setHeader: (name, value) => void res.setHeader(name, value),
  };
}

/**
 * The IETF draft "Resumable Uploads for HTTP" (draft-ietf-httpbis-resumable-upload, interop version 8). Errors are
 * the shared JSON error body; the draft's problem types add `type`, `title` and their members
 * (`application/problem+json`).
 */
@ApiTags('ietf-uploads')
@Controller('uploads')
@UseFilters(IetfProblemFilter)
export class IetfController {
  constructor(private readonly uploads: IetfUploadsService) {}

  /** Discovery: `Accept-Patch: application/partial-upload` and the limits. No token needed. */
  @Public()
  @Options()
  @ApiResponse({
    status: 204,
    description: 'Resumable uploads supported',
    headers: { 'Accept-Patch': header('`application/partial-upload`'), 'Upload-Limit': LIMIT },
  })
  discoverIetfUploads(@Res() res: Response): void {
    answer(res, { status: 204, headers: this.uploads.discovery() });
  }

  /** CORS preflight for an upload URL (the CORS headers are the middleware's). No token needed. */
  @Public()
  @Options(':id')
  @ApiParam(UPLOAD_ID)
  @ApiResponse({ status: 204, description: 'CORS preflight answer' })
  preflightIetfUpload(@Res() res: Response): void {
    answer(res, { status: 204, headers: this.uploads.discovery() });
  }

  /**
   * Creates an upload, optionally with (all or part of) its content. With `Upload-Draft-Interop-Version: 8` a
   * `104 Upload Resumption Supported` (with `Location`, `Upload-Limit`) comes before the body is read. Metadata:
   * `X-File-Type` (video|photo|camera; absent: an image/* or video/* Content-Type, else the content decides),
   * `Content-Disposition: inline; filename="…"`, `X-Title`, `X-Description`, `X-Chat-Id`, `Repr-Digest`.
   */
  @Post()
  @RateLimit('upload')
  @UploadBody()
  @ApiBearerAuth()
  @ApiHeader(UPLOAD_COMPLETE)
  @ApiHeader(UPLOAD_LENGTH)
  @ApiHeader({
    name: 'Upload-Draft-Interop-Version',
    required: false,
    description: '`8`, or absent (no 104)',
  })
  @ApiHeader({ name: 'X-File-Type', required: false, description: '`video`, `photo` or `camera`' })
  @ApiHeader({ name: 'Content-Disposition', required: false, description: '`inline; filename="clip.mp4"`' })
  @ApiHeader({ name: 'X-Title', required: false, description: 'Up to 200 characters' })
  @ApiHeader({ name: 'X-Description', required: false, description: 'Up to 5000 characters' })
  @ApiHeader({ name: 'X-Chat-Id', required: false, description: 'Chat the media belongs to (ObjectId)' })
  @ApiHeader({ name: 'Repr-Digest', required: false, description: '`sha-256=:<base64>:` of the whole file' })
  @ApiConsumes('application/octet-stream')
  @ApiBody(BYTES)
  @ApiResponse({
    status: 104,
    description: 'Upload Resumption Supported (interop version 8 only), before the body is read',
    headers: { Location: header('The upload URL'), 'Upload-Limit': LIMIT },
  })
  @ApiResponse({
    status: 201,
    description:
      'Complete (`Upload-Complete: ?1`): the upload JSON of POST /api/upload/media. Incomplete (`?0`): no body',
    type: MediaUploadResponseDto,
    headers: {
      Location: header('The upload URL, `…/api/uploads/<id>`; `<id>` is the uploadId'),
      'Upload-Complete': COMPLETE,
      'Upload-Offset': header('Bytes stored (incomplete uploads)'),
      'Upload-Limit': LIMIT,
    },
  })
  @ApiErrorResponses(400, 401, 413, 415, 422, 503, 507)
  async createIetfUpload(
    @CurrentUser() user: AuthUser,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    answer(res, await this.uploads.create(user.userId, req, replyOf(res)));
  }

  /** Where the upload stands; a request still writing it is stopped first. */
  @Head(':id')
  @ApiBearerAuth()
  @ApiParam(UPLOAD_ID)
  @ApiResponse({
    status: 204,
    description: 'The offset to append at',
    headers: {
      'Upload-Offset': header('Bytes stored'),
      'Upload-Complete': COMPLETE,
      'Upload-Length': header('Total size, when known'),
      'Upload-Limit': LIMIT,
      'Cache-Control': header('`no-store`'),
    },
  })
  @ApiErrorResponses(400, 401, 404, 410, 503)
  async getIetfUploadOffset(
    @CurrentUser() user: AuthUser,
    @Param('id', UploadIdPipe) id: string,
    @Res() res: Response,
  ): Promise<void> {
    answer(res, await this.uploads.offset(user.userId, id));
  }

  /**
   * Appends at `Upload-Offset` (`Content-Type: application/partial-upload`). 409 mismatching-upload-offset carries
   * the right `Upload-Offset`; 400 completed-upload or inconsistent-upload-length; 400 APPEND_TOO_SMALL when an append
   * that does not complete the upload declares fewer bytes than min-append-size; 413 over max-size.
   */
  @Patch(':id')
  @UploadBody()
  @ApiBearerAuth()
  @ApiParam(UPLOAD_ID)
  @ApiHeader({ name: 'Upload-Offset', required: true, description: 'Bytes already stored (sf-integer)' })
  @ApiHeader(UPLOAD_COMPLETE)
  @ApiHeader(UPLOAD_LENGTH)
  @ApiConsumes('application/partial-upload')
  @ApiBody(BYTES)
  @ApiResponse({
    status: 204,
    description: 'Appended; not complete yet',
    headers: {
      'Upload-Complete': COMPLETE,
      'Upload-Offset': header('The new offset'),
      'Upload-Limit': LIMIT,
    },
  })
  @ApiResponse({
    status: 201,
    description: 'Complete: the upload JSON of POST /api/upload/media, with `Upload-Complete: ?1`',
    type: MediaUploadResponseDto,
  })
  @ApiErrorResponses(400, 401, 404, 409, 410, 413, 415, 422, 503, 507)
  async appendIetfUpload(
    @CurrentUser() user: AuthUser,
    @Param('id', UploadIdPipe) id: string,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    answer(res, await this.uploads.append(user.userId, id, req, replyOf(res)));
  }

  /** Cancels an unfinished upload: a request still writing it is stopped, its bytes deleted, it ends `cancelled`. */
  @Delete(':id')
  @ApiBearerAuth()
  @ApiParam(UPLOAD_ID)
  @ApiResponse({ status: 204, description: 'Cancelled' })
  @ApiErrorResponses(400, 401, 404, 503)
  async cancelIetfUpload(
    @CurrentUser() user: AuthUser,
    @Param('id', UploadIdPipe) id: string,
    @Res() res: Response,
  ): Promise<void> {
    await this.uploads.cancel(user.userId, id);
    answer(res, { status: 204, headers: {} });
  }
}
