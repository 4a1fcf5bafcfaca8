import { HttpStatus, Injectable, Logger } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { Server } from '@tus/server';
import { EXPOSED_HEADERS, type Upload } from '@tus/utils';
import type { Request, Response } from 'express';
import { ApiError } from '../../common/errors/api-error';
import { ErrorCode } from '../../common/errors/error-code';
import { newUploadId } from '../../common/uploads/upload-id';
import { UPLOAD_ID_PATTERN } from '../../common/uploads/upload-status';
import type { AppConfig } from '../../config';
import { closeAfterEarlyAnswer } from '../../common/http/close-after-answer';
import { publicBaseUrl } from '../../common/http/public-url';
import type { MediaRecord } from '../../media';
import { CHECKSUM_ALGORITHMS } from './tus-checksum';
import { TusConcatService } from './tus-concat.service';
import { TusEarlyAnswer, tusErrorBody } from './tus-errors';
import { TusJsonServer } from './tus-json-server';
import { TUS_PATH } from './tus-paths';
import { refuseTusRequest, TUS_VERSION } from './tus-request-rules';
import { runInTusContext, TusRequestContext, tusContext } from './tus-request-context';
import { TusUploadsService } from './tus-uploads.service';

/** Response headers a cross-origin browser client must be able to read (on top of @tus/server's list). */
const EXPOSED = ['Upload-Expires', 'Tus-Checksum-Algorithm', 'X-Request-Id'];

/** The tus 1.0 protocol, served by @tus/server; our rules plug in through its hooks (see TusUploadsService). */
@Injectable()
export class TusService {
  private readonly server: Server;
  private readonly logger = new Logger(TusService.name);
  private readonly publicUrl?: string;

  constructor(
    private readonly uploads: TusUploadsService,
    private readonly concat: TusConcatService,
    config: ConfigService<AppConfig, true>,
  ) {
    const { corsOrigins, publicUrl } = config.get('http', { infer: true });
    this.publicUrl = publicUrl;
    this.server = new TusJsonServer({
      path: TUS_PATH,
      datastore: uploads.store,
      locker: uploads.locker,
      maxSize: uploads.maxSize,
      // Unset, @tus/server answers `*`; an empty list (CORS_ORIGINS empty, same-origin only) answers no origin at all.
      allowedOrigins: corsOrigins === '*' ? undefined : corsOrigins,
      allowedHeaders: ['Upload-Checksum', 'X-Request-Id'],
      exposedHeaders: EXPOSED,
      // The hooks get a Fetch Request @tus/server made from ours; what they need of the request (the Express
      // request, the authenticated caller) comes from the tus context TusService.handle runs it in.
      namingFunction: () => newUploadId(),
      getFileIdFromRequest: () => uploadIdOf(this.caller(false).req.path),
      generateUrl: (_req, { path, id }) => `${publicBaseUrl(this.caller(false).req, publicUrl)}${path}/${id}`,
      onIncomingRequest: (req, id) => this.onIncomingRequest(req.method, id),
      onUploadCreate: (_req, upload) => this.onUploadCreate(upload),
      onUploadFinish: async (_req, upload) => {
        const context = this.caller();
        await this.uploads.finish(context.userId, upload);
        context.finished = upload;
        return {};
      },
      onResponseError: (req, error) => this.onResponseError(req.method, error),
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
    applyMethodOverride(req);
    // tus concatenation: a partial upload is created by @tus/server like any other, a final one here.
    const concat = req.method === 'POST' ? req.get('Upload-Concat') : undefined;
    if (concat !== undefined && concat !== 'partial') {
      await runInTusContext({ req, res, userId }, () => this.createFinal(req, res, concat));
      return;
    }
    if (concat === 'partial') res.setHeader('Upload-Concat', 'partial');
    closeAfterEarlyAnswer(req, res);
    await runInTusContext({ req, res, userId }, () => this.server.handle(req, res));
  }

  /** A final upload (tus concatenation): 201 with its Location once it is assembled and stored as media. */
  private async createFinal(req: Request, res: Response, concat: string): Promise<void> {
    res.setHeader('Tus-Resumable', TUS_VERSION);
    if (req.get('Tus-Resumable') === undefined) {
      throw new ApiError(
        HttpStatus.PRECONDITION_FAILED,
        'TUS_RESUMABLE_REQUIRED',
        'Tus-Resumable: 1.0.0 is required',
      );
    }
    const id = await this.concat.createFinal(this.caller().userId, req, concat);
    res.setHeader('Location', `${publicBaseUrl(req, this.publicUrl)}${TUS_PATH}/${id}`);
    res.setHeader('Upload-Concat', concat);
    // @tus/server exposes its headers (Location) to browsers itself; this answer is ours.
    if (res.getHeader('Access-Control-Allow-Origin') !== undefined) {
      res.setHeader('Access-Control-Expose-Headers', [EXPOSED_HEADERS, ...EXPOSED].join(', '));
    }
    res.status(HttpStatus.CREATED).end();
  }

  /** `method` is the one @tus/server serves (X-HTTP-Method-Override applied). */
  private async onIncomingRequest(method: string, id: string): Promise<void> {
    const context = this.caller();
    if (method === 'POST') return; // creation: `id` is the new upload's
    // @tus/server would serve a finished upload's bytes on GET; finished media are served by /api/media.
    if (method === 'GET') throw new ApiError(HttpStatus.NOT_FOUND, ErrorCode.NOT_FOUND, 'Upload not found');
    context.record = await this.uploads.authorize(context.userId, id, method !== 'DELETE');
    if (context.record.concat === 'final' && method === 'PATCH') {
      throw new ApiError(
        HttpStatus.FORBIDDEN,
        ErrorCode.FORBIDDEN,
        'A final upload is made of its partial uploads: it takes no PATCH',
      );
    }
    const concat = method === 'HEAD' ? await this.concat.headerOf(context.record) : undefined;
    if (concat) context.res.setHeader('Upload-Concat', concat);
    if (context.record.status === 'completed') {
      if (method === 'PATCH') answerFinishedPatch(context.req, context.record);
      return;
    }
    if (method === 'HEAD') {
      context.record = await this.uploads.finishIfStored(context.userId, context.record);
      if (context.record.status === 'completed') return;
    }
    // @tus/server's HEAD answer has no Upload-Expires; Node keeps this header under the ones it writes.
    if (method === 'HEAD' && context.record.expiresAt) {
      context.res.setHeader('Upload-Expires', context.record.expiresAt.toUTCString());
    }
    if (method === 'PATCH') context.live = await this.uploads.track(context.userId, context.record);
  }

  private async onUploadCreate(upload: Upload): Promise<{ metadata?: Upload['metadata'] }> {
    const context = this.caller();
    const partial = context.req.get('Upload-Concat') === 'partial';
    const { record, live } = await this.uploads.create(context.userId, upload, partial);
    Object.assign(context, { record, live, createdId: upload.id });
    return {};
  }

  private async onResponseError(method: string, error: unknown) {
    const context = tusContext();
    if (error instanceof TusEarlyAnswer) {
      // TusJsonServer.write adds them: this hook can only choose the status and the body.
      if (context) context.answerHeaders = error.headers;
      return { status_code: error.status, body: '' };
    }
    const requestId = context?.req.id;
    const { body, internal } = tusErrorBody(error, typeof requestId === 'string' ? requestId : '');
    if (internal) this.logger.error({ err: error, requestId: body.requestId }, 'tus request failed');
    if (context?.createdId && method === 'POST') {
      // A creation that failed after the upload was made (its body broke off, a checksum failed): the client got
      // no Location, so nobody can resume it.
      await this.uploads
        .discard(context.userId, context.createdId, 'failed', `Creation failed: ${body.message}`)
        .catch((cleanupError: Error) => this.logger.error(`tus cleanup failed: ${cleanupError.message}`));
    }
    return { status_code: body.statusCode, body: JSON.stringify(body) };
  }

  /**
   * The context of the tus request being served. With `authenticated` (every hook but the URL ones), the caller
   * must be known: the routes are guarded, so this is defence in depth, no tus hook runs for an anonymous caller.
   */
  private caller(authenticated = true): TusRequestContext {
    const context = tusContext();
    if (!context) throw new Error('A tus hook ran outside TusService.handle');
    if (authenticated && !context.userId) {
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
function answerFinishedPatch(req: Request, record: MediaRecord): never {
  const size = record.fileSize ?? 0;
  if (Number(req.get('Upload-Offset')) !== size) {
    throw new ApiError(
      HttpStatus.CONFLICT,
      'UPLOAD_OFFSET_CONFLICT',
      `The upload is complete at offset ${size}`,
    );
  }
  throw new TusEarlyAnswer(HttpStatus.NO_CONTENT, { 'Upload-Offset': String(size) });
}

/**
 * `X-HTTP-Method-Override: PATCH|DELETE` on `POST /api/tus/:id` (refuseTusRequest allows nothing else): @tus/server
 * 2 no longer honours the header (1.x replaced `req.method` itself), so the request is served as the method it names.
 */
function applyMethodOverride(req: Request): void {
  const override = req.get('X-HTTP-Method-Override');
  if (override !== undefined) req.method = override.toUpperCase();
}

/** The upload id of a `/api/tus/<id>` path; anything else (extra segments, a malformed id) addresses nothing. */
function uploadIdOf(path: string): string | undefined {
  if (!path.startsWith(`${TUS_PATH}/`)) return undefined;
  const id = path.slice(TUS_PATH.length + 1).replace(/\/$/, '');
  return UPLOAD_ID_PATTERN.test(id) ? id : undefined;
}
