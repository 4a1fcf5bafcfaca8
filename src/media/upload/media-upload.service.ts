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
import { UPLOAD_ID_PATTERN } from '../../common/uploads/upload-status';
import type { AppConfig } from '../../config';
import { UploadCancelledError, ProgressTracker, UploadCancelService } from '../../progress';
import { QuotaReservation, QuotaService } from '../../quota';
import { UploadLocks } from '../../coordination';
import { acquireUpload, uploadBusy, UploadAbandoner, UploadFinaliser } from '../../upload-core';
import { StorageDriver, storageKey } from '../../storage';
import { MediaUploadResponseDto } from '../dto/media-response.dto';
import { MediaRecord, MediaRecordsService, uploadIdTaken } from '../media-records.service';
import type { MediaCategory } from '../mime-sniffer';
import { MediaStorageEngine } from './media-storage.engine';
import { multipartLimits, MULTIPART_OVERHEAD_BYTES } from './multipart-limits';
import {
  checksumMismatch,
  INPUT_ERROR_CODES,
  tooLarge,
  toUploadError,
  unsupportedType,
} from './upload-errors';
import { boundaryOf } from './body-framing';
import { FieldsSoFar, validateUploadFields } from './upload-fields';
import { ReceivedFile, UploadSession } from './upload-session';

/** What the request's headers say, checked before a byte of the body is read. */
interface UploadHeaders {
  uploadId?: string;
  declaredLength: number | null;
  boundary?: string;
  sha256?: string;
}

const SHA256_HEX = /^[0-9a-fA-F]{64}$/;

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
  /** The quota each running request holds, for the stream handler (which only sees the request). */
  private readonly reservations = new WeakMap<Request, QuotaReservation>();

  constructor(
    private readonly storage: StorageDriver,
    private readonly records: MediaRecordsService,
    private readonly tracker: ProgressTracker,
    private readonly cancels: UploadCancelService,
    config: ConfigService<AppConfig, true>,
    private readonly quota: QuotaService,
    private readonly locks: UploadLocks,
    private readonly finaliser: UploadFinaliser,
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
    const headers = this.readHeaders(req);
    // A declared length is checked against the quota before anything exists; an undeclared one as it streams.
    const reservation = await this.quota.reserve(user.userId, headers.declaredLength ?? 0);
    this.reservations.set(req, reservation);
    const uploadId = headers.uploadId ?? newUploadId();
    const lease = await acquireUpload(this.locks, user.userId, uploadId, 0).catch((error: unknown) => {
      reservation.release();
      throw error;
    });
    try {
      // One request per upload id on every instance: a second one in flight gets the answer a taken id gets.
      if (!lease) throw uploadIdTaken(uploadId);
      const session = await this.open(user.userId, { ...headers, uploadId });
      // Once the lease is lost another instance may take this upload id: this request stops writing.
      lease.signal.addEventListener('abort', () => session.fail(uploadBusy(uploadId, true)), { once: true });
      try {
        return await this.run(session.bind(req), req, res, headers);
      } finally {
        session.settle();
      }
    } finally {
      reservation.release();
      await lease?.release();
    }
  }

  private readHeaders(req: Request): UploadHeaders {
    const uploadId = req.headers['x-upload-id'];
    if (uploadId !== undefined && (typeof uploadId !== 'string' || !UPLOAD_ID_PATTERN.test(uploadId))) {
      throw new ApiError(
        HttpStatus.BAD_REQUEST,
        ErrorCode.BAD_REQUEST,
        'X-Upload-Id must be 8-64 characters of A-Z a-z 0-9 _ -',
      );
    }
    const sha256 = req.headers['x-content-sha256'];
    if (sha256 !== undefined && (typeof sha256 !== 'string' || !SHA256_HEX.test(sha256))) {
      throw new ApiError(
        HttpStatus.BAD_REQUEST,
        ErrorCode.BAD_REQUEST,
        'X-Content-SHA256 must be 64 hex digits',
      );
    }
    if (!req.is('multipart/form-data')) {
      throw new ApiError(
        HttpStatus.BAD_REQUEST,
        'INVALID_MULTIPART',
        'Send the upload as multipart/form-data',
      );
    }
    const length = req.headers['content-length'];
    const declaredLength = length === undefined ? null : Number(length);
    if (declaredLength !== null && declaredLength > this.maxBytes + MULTIPART_OVERHEAD_BYTES) {
      throw tooLarge(this.maxBytes);
    }
    return {
      uploadId,
      declaredLength,
      boundary: boundaryOf(req.headers['content-type']),
      sha256: sha256?.toLowerCase(),
    };
  }

  /** Claims the upload id (409 when taken) and starts live progress, before any byte of the body is read. */
  private async open(userId: string, headers: UploadHeaders): Promise<UploadSession> {
    const uploadId = headers.uploadId ?? newUploadId();
    await this.records.create({
      userId,
      uploadId,
      source: 'multipart',
      // Placeholder until the fields are parsed (they may follow the file); the broadest category.
      fileType: 'camera',
      expiresAt: this.expiresAt(),
    });
    let session: UploadSession | undefined;
    try {
      const live = await this.tracker.start({
        userId,
        uploadId,
        source: 'multipart',
        // The body's length until the file part is found in it (see MediaStorageEngine): an upper bound.
        totalBytes: headers.declaredLength,
        totalIsEstimate: headers.declaredLength !== null,
        // The abort itself reaches the session through live.signal; cancel waits for the request to clean up.
        canceller: async () => session?.settled,
      });
      session = new UploadSession({
        userId,
        uploadId,
        tmpKey: tmpKey(userId, uploadId),
        maxBytes: this.maxBytes,
        live,
        declaredLength: headers.declaredLength,
        boundary: headers.boundary,
      });
      return session;
    } catch (error) {
      await this.records.end(userId, uploadId, 'failed', 'Could not start the upload').catch(this.warn);
      throw error;
    }
  }

  private async run(
    session: UploadSession,
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
      return await this.store(session, file, fields.fileType, headers.sha256);
    } catch (error) {
      throw await this.abandon(session, toUploadError(session.fail(error as Error), req, this.maxBytes));
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
    const reservation = this.reservations.get(req);
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
    file: ReceivedFile,
    category: MediaCategory,
    expectedSha256?: string,
  ): Promise<MediaUploadResponseDto> {
    const stored = await this.finaliser.finalise({
      userId: session.userId,
      uploadId: session.uploadId,
      source: 'multipart',
      category,
      stagedKey: session.tmpKey,
      size: file.size,
      sha256: file.sha256,
      live: session.live,
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
  private async abandon(session: UploadSession, error: Error): Promise<Error> {
    const cancelled = session.failure instanceof UploadCancelledError;
    await this.abandoner
      .abandon({
        userId: session.userId,
        uploadId: session.uploadId,
        source: 'multipart',
        status: cancelled ? 'cancelled' : 'failed',
        reason: cancelled ? session.failure.message : reasonOf(error),
        keys: [session.tmpKey],
        // Bad input changes nothing: no record is kept, and the upload id may be used again.
        removeRecords: error instanceof ApiError && INPUT_ERROR_CODES.has(codeOf(error)),
        live: session.live,
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
      keys: [tmpKey(userId, uploadId)],
    });
  }

  private expiresAt(): Date {
    return new Date(Date.now() + this.expirySeconds * 1000);
  }

  private readonly warn = (error: Error) => {
    this.logger.warn(`upload cleanup step failed: ${error.message}`);
  };
}

function codeOf(error: ApiError): string {
  const body = error.getResponse() as { error?: string };
  return body.error ?? '';
}

/** What the records keep as the reason: the client-facing message, never an internal one. */
function reasonOf(error: Error): string {
  if (error instanceof ApiError) {
    const body = error.getResponse() as { error?: string; message?: string };
    return `${body.error}: ${body.message}`;
  }
  return 'INTERNAL_ERROR: the upload could not be stored';
}

function toUploadResponse(record: MediaRecord): MediaUploadResponseDto {
  return {
    success: true,
    message: 'Media uploaded successfully',
    uploadId: record.uploadId,
    fileUrl: record.fileUrl ?? '',
    fileName: record.fileName ?? '',
    fileType: record.fileType,
    fileSize: record.fileSize ?? 0,
    mimeType: record.mimeType ?? '',
    checksumSha256: record.checksumSha256 ?? '',
    originalName: record.originalName ?? null,
    status: record.status,
    title: record.title,
    description: record.description,
    chatId: record.chatId ? String(record.chatId) : null,
    groupId: record.groupId ? String(record.groupId) : null,
    uploadedAt: record.uploadedAt,
    completedAt: record.completedAt ?? new Date(),
  };
}

/** Derived from the ids, so a discarder finds it without a lookup; both ids are validated key segments. */
function tmpKey(userId: string, uploadId: string): string {
  return storageKey('tmp', `${userId}.${uploadId}.part`);
}
