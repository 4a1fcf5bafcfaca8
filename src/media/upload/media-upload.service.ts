import { HttpStatus, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { Request, RequestHandler, Response } from 'express';
import multer from 'multer';
import { Types } from 'mongoose';
import { AuthUser } from '../../common/decorators/current-user.decorator';
import { ApiError } from '../../common/errors/api-error';
import { ErrorCode } from '../../common/errors/error-code';
import { guardedStreamHandler } from '../../common/uploads/multipart-field-names';
import { newUploadId } from '../../common/uploads/upload-id';
import type { AppConfig } from '../../config';
import { UploadCancelledError, UploadCancelService } from '../../progress';
import { uploadBusy, UploadAbandoner, UploadClaim, UploadClaims } from '../../upload-core';
import { mediaKey, StorageDriver, storageKey } from '../../storage';
import { MediaUploadResponseDto } from '../dto/media-response.dto';
import { MediaRecordsService, uploadIdTaken } from '../media-records.service';
import { MediaCategory, STORED_EXTENSIONS } from '../mime-sniffer';
import { MediaStorageEngine } from './media-storage.engine';
import { multipartLimits, MULTIPART_OVERHEAD_BYTES } from './multipart-limits';
import { checksumMismatch, tooLarge, toUploadError, unsupportedType } from './upload-errors';
import { FieldsSoFar, validateUploadFields } from './upload-fields';
import { readUploadHeaders, UploadHeaders } from './upload-headers';
import { isInputError, reasonOf, toUploadResponse } from './upload-response';
import { ReceivedFile, UploadSession } from './upload-session';

/**
 * POST /api/upload/media: one streaming multipart request. The records are claimed before the body is read (so
 * the client can poll progress and cancel by its X-Upload-Id while the body streams); bytes go to tmp/ through the
 * MediaStorageEngine and are renamed into media/ only once everything checked out. Every failure deletes the
 * bytes and ends both records with a reason; bad input (400) leaves no record at all.
 */
@Injectable()
export class MediaUploadService implements OnModuleInit {
  private readonly logger = new Logger(MediaUploadService.name);
  private readonly maxBytes: number;
  private readonly expirySeconds: number;
  private readonly multipart: RequestHandler;

  constructor(
    private readonly storage: StorageDriver,
    private readonly records: MediaRecordsService,
    private readonly cancels: UploadCancelService,
    config: ConfigService<AppConfig, true>,
    private readonly claims: UploadClaims,
    private readonly abandoner: UploadAbandoner,
  ) {
    const uploads = config.get('uploads', { infer: true });
    this.maxBytes = uploads.maxMediaBytes;
    this.expirySeconds = uploads.expirySeconds;
    const options: multer.Options & { streamHandler: (req: Request, busboy: NodeJS.WritableStream) => void } =
      {
        storage: new MediaStorageEngine(storage, (session, fields, name) =>
          this.describe(session, fields, name),
        ),
        limits: multipartLimits(this.maxBytes),
        // Browsers and Dart send raw UTF-8 file names; multer's default (latin1) would garble "Declaração.mp4".
        defParamCharset: 'utf8',
        streamHandler: (req, busboy) => this.feed(req, busboy),
      };
    this.multipart = multer(options).any();
  }

  onModuleInit(): void {
    this.cancels.registerDiscarder('multipart', (userId, uploadId, status, reason) =>
      this.discard(userId, uploadId, status, reason),
    );
  }

  async upload(user: AuthUser, req: Request, res: Response): Promise<MediaUploadResponseDto> {
    const headers = readUploadHeaders(req, this.maxBytes);
    const uploadId = headers.uploadId ?? newUploadId();
    const started: { session?: UploadSession } = {};
    // Claimed before the body is read, so the client can poll progress and cancel by its X-Upload-Id meanwhile.
    const claim = await this.claims.claim({
      userId: user.userId,
      uploadId,
      source: 'multipart',
      // A declared length is checked against the quota before anything exists; an undeclared one as it streams.
      quota: { reserve: headers.declaredLength ?? 0 },
      // One request per upload id on every instance: a second one in flight gets the answer a taken id gets.
      lease: { waitMs: 0, busy: () => uploadIdTaken(uploadId) },
      // Placeholder until the fields are parsed (they may follow the file); the broadest category.
      record: { create: { fileType: 'camera', expiresAt: this.expiresAt() } },
      progress: {
        // The body's length until the file part is found in it (see MediaStorageEngine): an upper bound.
        totalBytes: headers.declaredLength,
        totalIsEstimate: headers.declaredLength !== null,
        // The abort itself reaches the session through live.signal; cancel waits for the request to clean up.
        canceller: async () => started.session?.settled,
      },
    });
    const session = new UploadSession({
      userId: user.userId,
      uploadId,
      stagedKey: tmpKey(user.userId, uploadId),
      maxBytes: this.maxBytes,
      live: claim.live,
      reservation: claim.reservation,
      declaredLength: headers.declaredLength,
      boundary: headers.boundary,
    });
    started.session = session;
    // Once the lease is lost another instance may take this upload id: this request stops writing.
    claim.lost.addEventListener('abort', () => session.fail(uploadBusy(uploadId, true)), { once: true });
    try {
      return await this.run(session.bind(req), claim, req, res, headers);
    } finally {
      session.settle();
      await claim.release();
    }
  }

  private async run(
    session: UploadSession,
    claim: UploadClaim,
    req: Request,
    res: Response,
    headers: UploadHeaders,
  ): Promise<MediaUploadResponseDto> {
    try {
      await Promise.race([this.parse(req, res), session.failed]);
      session.throwIfFailed();
      const fields = await validateUploadFields(req.body as Record<string, unknown>);
      const file = session.file;
      if (!file) {
        throw new ApiError(HttpStatus.BAD_REQUEST, ErrorCode.VALIDATION_FAILED, 'file is required', {
          errors: { file: ['file is required'] },
        });
      }
      // The record learns the fields now, so even an upload refused below is listed under its real fileType.
      await this.describe(session, fields, file.originalName);
      return await this.store(session, claim, file, fields.fileType, headers.sha256);
    } catch (error) {
      throw await this.abandon(
        session,
        claim,
        toUploadError(session.fail(error as Error), req, this.maxBytes),
      );
    }
  }

  private parse(req: Request, res: Response): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      void this.multipart(req, res, (error?: unknown) => {
        if (!error) return resolve();
        reject(error instanceof Error ? error : new Error('multipart parsing failed'));
      });
    });
  }

  /**
   * multer's stream handler: pipes the body to busboy, keeps its head (to locate the file part) and, without a
   * Content-Length, cuts it at the limit.
   */
  private feed(req: Request, busboy: NodeJS.WritableStream): void {
    const session = UploadSession.of(req);
    // Both registered before the pipe, so a chunk is kept (and a field counted) before busboy parses it.
    req.on('data', (chunk: Buffer) => session.bodyHead.record(chunk));
    (busboy as NodeJS.WritableStream & NodeJS.EventEmitter).on('field', () => session.fieldParts++);
    guardedStreamHandler(req, busboy);
    if (session.declaredLength !== null) return; // Node itself refuses a body longer than declared
    const cap = this.maxBytes + MULTIPART_OVERHEAD_BYTES;
    const reservation = session.reservation;
    req.on('data', (chunk: Buffer) => {
      session.bodyBytes += chunk.length;
      if (session.bodyBytes > cap) session.fail(tooLarge(this.maxBytes));
      try {
        reservation?.grow(session.bodyBytes);
      } catch (error) {
        session.fail(error as Error);
      }
    });
  }

  /** Records the fields received so far (the first time before the file streams, again once all are parsed). */
  private async describe(session: UploadSession, fields: FieldsSoFar, originalName?: string) {
    const known = {
      fileType: fields.fileType,
      title: fields.title,
      description: fields.description,
      chatId: fields.chatId ? new Types.ObjectId(fields.chatId) : undefined,
      groupId: fields.groupId ? new Types.ObjectId(fields.groupId) : undefined,
      originalName,
    };
    const extra = Object.fromEntries(Object.entries(known).filter(([, value]) => value !== undefined));
    await this.records.touch(session.userId, session.uploadId, this.expiresAt(), extra);
  }

  /**
   * The upload core checks the file against the category of the fields (the engine only knew those before the
   * file) and X-Content-SHA256, moves it into media/ and completes the records.
   */
  private async store(
    session: UploadSession,
    claim: UploadClaim,
    file: ReceivedFile,
    category: MediaCategory,
    expectedSha256?: string,
  ): Promise<MediaUploadResponseDto> {
    const stored = await claim.finalise({
      category,
      stagedKey: session.stagedKey,
      size: file.size,
      sha256: file.sha256,
      signal: session.signal,
      refusal: unsupportedType,
      reasonOf,
      verify: ({ sha256 }) => {
        if (expectedSha256 && expectedSha256 !== sha256) throw checksumMismatch(expectedSha256, sha256);
      },
    });
    return toUploadResponse(stored.record);
  }

  /** Deletes the bytes and ends (or, for bad input, removes) both records; returns the error to answer with. */
  private async abandon(session: UploadSession, claim: UploadClaim, error: Error): Promise<Error> {
    const cancelled = session.failure instanceof UploadCancelledError;
    await session.receiving?.catch(() => undefined); // one writer of the record at a time (see `receiving`)
    await claim
      .abandon({
        status: cancelled ? 'cancelled' : 'failed',
        reason: cancelled ? session.failure.message : reasonOf(error),
        keys: [session.stagedKey],
        removeRecords: isInputError(error),
      })
      .catch(() => undefined); // each failed step was logged by the abandoner
    if (!(error instanceof ApiError)) this.logger.error(`upload ${session.uploadId} failed: ${error.stack}`);
    return error;
  }

  /** Discards a multipart upload no live request holds (e.g. after a restart): its tmp file and its record. */
  private discard(userId: string, uploadId: string, status: 'cancelled' | 'expired', reason: string) {
    return this.abandoner.abandon({
      userId,
      uploadId,
      source: 'multipart',
      status,
      reason,
      keys: this.stagedKeys(userId, uploadId),
    });
  }

  /**
   * Every key a multipart upload's bytes may be at: tmp/, and where the driver stages at the final key, each media
   * key the upload could have (its type is not recorded before it completes).
   */
  private stagedKeys(userId: string, uploadId: string): string[] {
    const finalKeys = this.storage.promoteCopies
      ? STORED_EXTENSIONS.map((ext) => mediaKey(userId, uploadId, ext))
      : [];
    return [tmpKey(userId, uploadId), ...finalKeys];
  }

  private expiresAt(): Date {
    return new Date(Date.now() + this.expirySeconds * 1000);
  }
}

/** Derived from the ids, so a discarder finds it without a lookup; both ids are validated key segments. */
function tmpKey(userId: string, uploadId: string): string {
  return storageKey('tmp', `${userId}.${uploadId}.part`);
}
