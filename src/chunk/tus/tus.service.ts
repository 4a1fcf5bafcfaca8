import { HttpStatus, Injectable, Logger } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { EXPOSED_HEADERS, Server, Upload } from '@tus/server';
import type { Request, Response } from 'express';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ApiError } from '../../common/errors/api-error';
import { ErrorCode } from '../../common/errors/error-code';
import { newUploadId } from '../../common/uploads/upload-id';
import { UPLOAD_ID_PATTERN } from '../../common/uploads/upload-status';
import type { AppConfig } from '../../config';
import { publicBaseUrl } from '../../common/http/public-url';
import type { MediaRecord } from '../../media/media-records.service';
import { CHECKSUM_ALGORITHMS } from './tus-checksum';
import { TusEarlyAnswer, tusErrorBody } from './tus-errors';
import { TusJsonServer } from './tus-json-server';
import { TUS_PATH } from './tus-paths';
import { refuseTusRequest, TUS_VERSION } from './tus-request-rules';
import { runInTusContext, TusRequestContext, tusContext } from './tus-request-context';
import { TusUploadsService } from './tus-uploads.service';

/** Response headers a cross-origin browser client must be able to read (on top of @tus/server's list). */
const EXPOSED = `${EXPOSED_HEADERS}, Upload-Expires, Tus-Checksum-Algorithm, X-Request-Id`;

/**
 * An origin no browser page can have (RFC 6761 reserves `.invalid`): @tus/server answers `*` to every origin
 * when its list is empty, which would open a same-origin-only deployment (CORS_ORIGINS empty).
 */
const NO_CROSS_ORIGIN = 'https://no-cross-origin.invalid';

/** The tus 1.0 protocol, served by @tus/server; our rules plug in through its hooks (see TusUploadsService). */
@Injectable()
export class TusService {
  private readonly server: Server;
  private readonly logger = new Logger(TusService.name);

  constructor(
    private readonly uploads: TusUploadsService,
    config: ConfigService<AppConfig, true>,
  ) {
    const { corsOrigins, publicUrl } = config.get('http', { infer: true });
    this.server = new TusJsonServer({
      path: TUS_PATH,
      datastore: uploads.store,
      locker: uploads.locker,
      maxSize: uploads.maxSize,
      allowedOrigins: corsOrigins === '*' ? undefined : corsOrigins.length ? corsOrigins : [NO_CROSS_ORIGIN],
      allowedHeaders: ['Upload-Checksum', 'X-Request-Id'],
      namingFunction: () => newUploadId(),
      getFileIdFromRequest: (req) => uploadIdOf(req.url),
      generateUrl: (req, { path, id }) => `${publicBaseUrl(req as Request, publicUrl)}${path}/${id}`,
      onIncomingRequest: (req, res, id) => this.onIncomingRequest(req, res, id),
      onUploadCreate: (req, res, upload) => this.onUploadCreate(res, upload),
      onUploadFinish: async (_req, res, upload) => {
        const context = this.caller();
        await this.uploads.finish(context.userId, upload);
        context.finished = upload;
        return res;
      },
      onResponseError: (req, res, error) => this.onResponseError(req as Request, res, error),
    });
  }

  /** Serves one tus request; `userId` is the authenticated caller (none for OPTIONS). */
  async handle(req: Request, res: Response, userId = ''): Promise<void> {
    const refusal = refuseTusRequest(req);
    if (refusal) {
      res.setHeader('Tus-Resumable', TUS_VERSION);
      res.setHeader('Tus-Version', TUS_VERSION);
      throw refusal;
    }
    if (req.method === 'OPTIONS') res.setHeader('Tus-Checksum-Algorithm', CHECKSUM_ALGORITHMS.join(','));
    await runInTusContext({ req, userId }, () => this.server.handle(req, res));
  }

  private async onIncomingRequest(req: IncomingMessage, res: ServerResponse, id: string): Promise<void> {
    const context = this.caller();
    res.setHeader('Access-Control-Expose-Headers', EXPOSED);
    if (req.method === 'POST') return; // creation: `id` is the new upload's
    // @tus/server would serve a finished upload's bytes on GET; finished media are served by /api/media.
    if (req.method === 'GET')
      throw new ApiError(HttpStatus.NOT_FOUND, ErrorCode.NOT_FOUND, 'Upload not found');
    context.record = await this.uploads.authorize(context.userId, id, req.method !== 'DELETE');
    if (context.record.status === 'completed') {
      if (req.method === 'PATCH') answerFinishedPatch(req, context.record);
      return;
    }
    if (req.method === 'HEAD' && context.record.expiresAt) {
      res.setHeader('Upload-Expires', context.record.expiresAt.toUTCString());
    }
    if (req.method === 'PATCH') context.live = await this.uploads.track(context.userId, context.record);
  }

  private async onUploadCreate(res: ServerResponse, upload: Upload): Promise<ServerResponse> {
    const context = this.caller();
    const { record, live } = await this.uploads.create(context.userId, upload);
    Object.assign(context, { record, live, createdId: upload.id });
    return res;
  }

  private async onResponseError(req: Request, res: ServerResponse, error: unknown) {
    if (error instanceof TusEarlyAnswer) {
      for (const [name, value] of Object.entries(error.headers)) res.setHeader(name, value);
      return { status_code: error.status, body: '' };
    }
    const { body, internal } = tusErrorBody(error, typeof req.id === 'string' ? req.id : '');
    if (internal) this.logger.error({ err: error, requestId: body.requestId }, 'tus request failed');
    const context = tusContext();
    if (context?.createdId && req.method === 'POST') {
      // A creation that failed after the upload was made (its body broke off, a checksum failed): the client got
      // no Location, so nobody can resume it.
      await this.uploads
        .discard(context.userId, context.createdId, 'failed', `Creation failed: ${body.message}`)
        .catch((cleanupError: Error) => this.logger.error(`tus cleanup failed: ${cleanupError.message}`));
    }
    res.setHeader('Content-Type', 'application/json; charset=utf-8');
    return { status_code: body.statusCode, body: JSON.stringify(body) };
  }

  private caller(): TusRequestContext {
    const context = tusContext();
    // The routes are guarded, so this is defence in depth: no tus hook runs for an unauthenticated caller.
    if (!context?.userId) {
      throw new ApiError(
        HttpStatus.UNAUTHORIZED,
        ErrorCode.TOKEN_MISSING,
        'A bearer access token is required',
      );
    }
    return context;
  }
}

/**
 * Like tusd, a PATCH to a finished upload at its full offset stores nothing and answers 204 with that offset (a
 * client whose last 204 was lost sends it again); another offset is a 409 as for any upload.
 */
function answerFinishedPatch(req: IncomingMessage, record: MediaRecord): never {
  const size = record.fileSize ?? 0;
  if (Number(req.headers['upload-offset']) !== size) {
    throw new ApiError(
      HttpStatus.CONFLICT,
      'UPLOAD_OFFSET_CONFLICT',
      `The upload is complete at offset ${size}`,
    );
  }
  throw new TusEarlyAnswer(HttpStatus.NO_CONTENT, { 'Upload-Offset': String(size) });
}

/** The upload id of a `/api/tus/<id>` URL; anything else (extra segments, a malformed id) addresses nothing. */
function uploadIdOf(url: string | undefined): string | undefined {
  const path = (url ?? '').split('?', 1)[0];
  if (!path.startsWith(`${TUS_PATH}/`)) return undefined;
  const id = path.slice(TUS_PATH.length + 1).replace(/\/$/, '');
  return UPLOAD_ID_PATTERN.test(id) ? id : undefined;
}
