import { HttpStatus, Injectable, OnModuleInit } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { Request } from 'express';
import { publicBaseUrl } from '../../common/http/public-url';
import { newUploadId } from '../../common/uploads/upload-id';
import type { AppConfig } from '../../config';
import { MediaRecord, MediaRecordsService } from '../../media';
import { UploadCancelService } from '../../progress';
import { QuotaService } from '../../quota';
import { StorageDriver } from '../../storage';
import { UploadClaims } from '../../upload-core';
import {
  indicatedLength,
  isPartialUpload,
  readUploadFields,
  reprDigestSha256,
  speaksInterop8,
  INTEROP_VERSION,
} from './ietf-headers';
import { readUploadMetadata } from './ietf-metadata';
import { IETF_PATH } from './ietf-paths';
import {
  completedUpload,
  missingField,
  notPartialUpload,
  overMaxSize,
  uploadGone,
  uploadNotFound,
} from './ietf-problems';
import { HeldUpload, IetfUploadLock } from './ietf-upload-lock';
import { IetfUploadStates } from './ietf-upload-state';
import type { IetfAnswer } from './ietf-completion';
import { ietfDataKey } from './ietf-keys';
import { IetfWriter } from './ietf-writer';

/** How a route answers besides its final answer: interim 1xx answers and header fields of the final one. */
export interface Reply {
  interim: (status: number, headers: Record<string, string>) => void;
  setHeader: (name: string, value: string) => void;
}

/**
 * The IETF draft "Resumable Uploads for HTTP" (interop version 8) at /api/uploads, as an adapter on the upload core:
 * creation, offset retrieval, append and cancellation of the caller's uploads (another user's upload is a 404, like a
 * missing one). The write path is IetfWriter's; each request holds the upload's lock (see IetfUploadLock).
 */
@Injectable()
export class IetfUploadsService implements OnModuleInit {
  private readonly publicUrl?: string;

  constructor(
    private readonly writer: IetfWriter,
    private readonly claims: UploadClaims,
    private readonly records: MediaRecordsService,
    private readonly states: IetfUploadStates,
    private readonly lock: IetfUploadLock,
    private readonly storage: StorageDriver,
    private readonly cancels: UploadCancelService,
    private readonly quota: QuotaService,
    config: ConfigService<AppConfig, true>,
  ) {
    this.publicUrl = config.get('http', { infer: true }).publicUrl;
  }

  onModuleInit(): void {
    this.cancels.registerDiscarder('ietf', (userId, uploadId, status, reason) =>
      this.writer.discard(userId, uploadId, status, reason),
    );
    this.quota.registerUsage('ietf-deferred', (userId) => this.deferredBytes(userId));
  }

  /** OPTIONS: what the server supports (`Accept-Patch`) and its limits. */
  discovery(): Record<string, string> {
    return { 'Accept-Patch': 'application/partial-upload', 'Upload-Limit': this.writer.uploadLimit() };
  }

  /**
   * Upload creation: checks the request (400, 413) before anything exists, creates the upload, announces it in a 104
   * (interop version 8), then takes the content. A creation that fails without having announced its upload discards
   * it: no client can resume it.
   */
  async create(userId: string, req: Request, reply: Reply): Promise<IetfAnswer> {
    const interop = speaksInterop8(req.headers);
    const fields = readUploadFields(req.headers);
    if (fields.complete === undefined) throw missingField('Upload-Complete', 'sf-boolean ?1 or ?0');
    this.writer.assertAppendSize(fields, true);
    const length = indicatedLength(fields, 0, undefined);
    if (length !== undefined && length > this.writer.maxSize) {
      throw overMaxSize(this.writer.maxSize, this.writer.uploadLimit());
    }
    const { inferCategory, ...metadata } = await readUploadMetadata(req.headers);
    const sha256 = reprDigestSha256(req.headers) ?? null;
    const uploadId = newUploadId();
    const claim = await this.claims.claim({
      userId,
      uploadId,
      source: 'ietf',
      // A declared length counts against the quota from creation on (as the record's expectedSize).
      quota: length === undefined ? undefined : { assertRoom: length },
      record: { create: { ...metadata, expectedSize: length ?? null, expiresAt: this.writer.nextExpiry() } },
      progress: this.writer.progressOf(userId, uploadId, length ?? null),
    });
    const key = ietfDataKey(uploadId);
    let held: HeldUpload;
    try {
      await this.storage.assembly(key).truncate(0);
      await this.states.create(userId, uploadId, {
        inferCategory,
        lengthKnown: length !== undefined,
        sha256,
      });
      held = await this.lock.hold(uploadId);
    } catch (error) {
      const endOwn = () => this.writer.endOwn(uploadId);
      await claim.abandon({ status: 'failed', reason: 'Could not start the upload', keys: [key], endOwn });
      throw error;
    }
    // Nothing is held between requests: each one claims the upload again under its lock.
    await claim.release();
    const location = `${publicBaseUrl(req, this.publicUrl)}${IETF_PATH}/${uploadId}`;
    if (interop) {
      reply.interim(104, {
        Location: location,
        'Upload-Limit': this.writer.uploadLimit(),
        'Upload-Draft-Interop-Version': String(INTEROP_VERSION),
      });
    }
    const receive = { userId, uploadId, held, req, fields, location, setHeader: reply.setHeader };
    try {
      return await this.writer.receive({ ...receive, deferred: length === undefined });
    } catch (error) {
      if (!interop)
        await this.writer
          .discard(userId, uploadId, 'failed', 'The creation request failed')
          .catch(() => undefined);
      throw error;
    }
  }

  /** Offset retrieval: stops a request still writing the upload first, so the offset answered is final. */
  async offset(userId: string, uploadId: string): Promise<IetfAnswer> {
    let record = await this.owned(userId, uploadId);
    if (record.status === 'uploading') {
      const held = await this.lock.hold(uploadId);
      try {
        const offset = (await this.storage.assembly(ietfDataKey(uploadId)).length()) ?? 0;
        record = await this.owned(userId, uploadId);
        if (record.status === 'uploading') return this.unfinishedOffset(record, offset);
      } finally {
        await held.release();
      }
    }
    if (record.status !== 'completed') throw uploadGone(record.status);
    const size = String(record.fileSize ?? 0);
    return {
      status: HttpStatus.NO_CONTENT,
      headers: {
        'Upload-Complete': '?1',
        'Upload-Offset': size,
        'Upload-Length': size,
        'Cache-Control': 'no-store',
      },
    };
  }

  /** Upload append: the request's content at `Upload-Offset`; a request still writing the upload is stopped first. */
  async append(userId: string, uploadId: string, req: Request, reply: Reply): Promise<IetfAnswer> {
    if (!isPartialUpload(req.headers)) throw notPartialUpload();
    const fields = readUploadFields(req.headers);
    if (fields.offset === undefined) throw missingField('Upload-Offset', 'a non-negative sf-integer');
    if (fields.complete === undefined) throw missingField('Upload-Complete', 'sf-boolean ?1 or ?0');
    this.writer.assertAppendSize(fields, false);
    const record = await this.owned(userId, uploadId);
    if (record.status === 'completed') throw completedUpload();
    if (record.status !== 'uploading') throw uploadGone(record.status);
    const deferred =
      record.expectedSize == null &&
      fields.length === undefined &&
      !(fields.complete && fields.contentLength !== undefined);
    const held = await this.lock.hold(uploadId);
    return this.writer.receive({ userId, uploadId, held, req, fields, deferred, setHeader: reply.setHeader });
  }

  /**
   * Upload cancellation, as the cancel route does it: the instance holding the upload's live progress (this one or
   * another) aborts its running request and discards it, so no stale progress of the cut request outlives the end.
   */
  async cancel(userId: string, uploadId: string): Promise<void> {
    const record = await this.owned(userId, uploadId);
    if (record.status === 'completed') throw completedUpload();
    if (record.status === 'uploading') await this.cancels.cancel(userId, uploadId);
  }

  private unfinishedOffset(record: MediaRecord, offset: number): IetfAnswer {
    const left = record.expiresAt ? record.expiresAt.getTime() - Date.now() : undefined;
    return {
      status: HttpStatus.NO_CONTENT,
      headers: {
        'Upload-Complete': '?0',
        'Upload-Offset': String(offset),
        ...(record.expectedSize != null ? { 'Upload-Length': String(record.expectedSize) } : {}),
        'Upload-Limit': this.writer.uploadLimit(left),
        'Cache-Control': 'no-store',
      },
    };
  }

  /** The caller's IETF-draft upload: 404 when missing or another user's (the same answer, nothing leaks). */
  private async owned(userId: string, uploadId: string): Promise<MediaRecord> {
    const record = await this.records.findOwned(userId, uploadId);
    if (!record || record.source !== 'ietf') throw uploadNotFound();
    return record;
  }

  /** Bytes stored for the user's uploads whose length is not known yet (no expectedSize counts them). */
  private async deferredBytes(userId: string): Promise<number> {
    const ids = await this.states.deferredIds(userId);
    const sizes = await Promise.all(
      ids.map((id) =>
        this.storage
          .assembly(ietfDataKey(id))
          .length()
          .catch(() => undefined),
      ),
    );
    return sizes.reduce<number>((sum, size) => sum + (size ?? 0), 0);
  }
}
