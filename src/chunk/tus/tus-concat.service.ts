import { HttpStatus, Injectable, Logger } from '@nestjs/common';
import { Metadata, Upload } from '@tus/utils';
import type { Request } from 'express';
import { ApiError } from '../../common/errors/api-error';
import { ErrorCode } from '../../common/errors/error-code';
import { newUploadId } from '../../common/uploads/upload-id';
import { MediaRecord, MediaRecordsService } from '../../media';
import { ProgressTracker, UploadProgressService } from '../../progress';
import { StorageDriver } from '../../storage';
import { Held, UploadClaim, UploadClaims } from '../../upload-core';
import { invalidConcat, partialIdsOf } from './tus-concat-header';
import { storedBytes, tusDataKey } from './tus-file.store';
import { TusKvStore } from './tus-kv.store';
import { parseTusMetadata } from './tus-metadata';
import { TusUploadsService } from './tus-uploads.service';
import { contentRefused, isContentRefusal } from './tus-write-rules';

/** A complete partial upload, ready to be copied into its final upload. */
interface PartialSlice {
  id: string;
  size: number;
}

const notFound = () => new ApiError(HttpStatus.NOT_FOUND, ErrorCode.NOT_FOUND, 'Upload not found');

/**
 * tus concatenation (https://tus.io/protocols/resumable-upload#concatenation), final uploads: the caller's complete
 * partial uploads (created through @tus/server with `Upload-Concat: partial`, see TusUploadsService) are copied,
 * in order, into one new upload (S3: server-side, UploadPartCopy), which is then finalised like any tus upload.
 * Everything happens under the tus locks of the partials and of the final, so it is safe across instances.
 */
@Injectable()
export class TusConcatService {
  private readonly logger = new Logger(TusConcatService.name);

  constructor(
    private readonly uploads: TusUploadsService,
    private readonly records: MediaRecordsService,
    private readonly progress: UploadProgressService,
    private readonly tracker: ProgressTracker,
    private readonly storage: StorageDriver,
    private readonly kv: TusKvStore,
    private readonly claims: UploadClaims,
  ) {}

  /** The `Upload-Concat` a HEAD of a partial or final upload answers; undefined for any other upload. */
  async headerOf(record: MediaRecord): Promise<string | undefined> {
    if (record.concat === 'partial') return 'partial';
    if (record.concat === 'final') return (await this.kv.concatOf(record.uploadId)) ?? 'final;';
    return undefined;
  }

  /**
   * `POST /api/tus` with `Upload-Concat: final;<url> …`: creates, assembles and finalises the final upload; returns
   * its id. On success the partials are gone; on any failure the final upload ends failed and the partials stay
   * (the client may try again), except after a content refusal (415), which would only happen again.
   */
  async createFinal(userId: string, req: Request, concat: string): Promise<string> {
    if (req.get('Upload-Length') !== undefined || req.get('Upload-Defer-Length') !== undefined) {
      throw invalidConcat('A final upload has no Upload-Length: it is the sum of its partial uploads');
    }
    if (Number(req.get('Content-Length') ?? 0) > 0 || req.get('Transfer-Encoding') !== undefined) {
      throw invalidConcat('A final upload carries no bytes');
    }
    const ids = partialIdsOf(concat);
    const metadata = readMetadata(req.get('Upload-Metadata'));
    const fields = parseTusMetadata(metadata);
    // Checked before any lock is taken, so nobody can hold up another user's uploads; again under the locks.
    for (const id of ids) await this.partialRecord(userId, id);
    const held = await this.lockAll(ids);
    try {
      const partials: PartialSlice[] = [];
      for (const id of ids) partials.push(await this.completePartial(userId, id));
      const size = partials.reduce((sum, partial) => sum + partial.size, 0);
      if (size > this.uploads.maxSize) {
        throw new ApiError(
          HttpStatus.PAYLOAD_TOO_LARGE,
          ErrorCode.PAYLOAD_TOO_LARGE,
          `The partial uploads hold ${size} bytes; at most ${this.uploads.maxSize} make one upload`,
        );
      }
      const finalId = newUploadId();
      const claim = await this.claims.claim({
        userId,
        uploadId: finalId,
        source: 'tus',
        lease: this.uploads.lease(finalId),
        // No expectedSize: the partials' declared lengths hold the quota until they are removed.
        record: {
          create: { ...fields, concat: 'final', expectedSize: null, expiresAt: this.uploads.nextExpiry() },
        },
        progress: this.uploads.progressOf(userId, finalId, size),
      });
      const info = new Upload({ id: finalId, size, offset: 0, metadata });
      await this.assembleAndFinalise(claim, partials, info, concat);
      await this.uploads.store.removeLeftovers(finalId);
      for (const partial of partials) await this.removePartial(userId, partial.id);
      return finalId;
    } finally {
      await Promise.all(held.map((lock) => lock.release().catch(() => undefined)));
    }
  }

  /** `info` and `concat` are the final upload's tus info, kept for its HEAD answers. */
  private async assembleAndFinalise(
    claim: UploadClaim,
    partials: PartialSlice[],
    info: Upload,
    concat: string,
  ): Promise<void> {
    const { userId, uploadId } = claim;
    const size = info.size ?? 0;
    const discardOwn = () => this.uploads.store.discard(uploadId);
    try {
      await this.kv.set(uploadId, info, concat);
      const target = this.storage.assembly(tusDataKey(uploadId));
      await target.truncate(0);
      let length = 0;
      for (const partial of partials) {
        claim.live.signal.throwIfAborted();
        // Naming the committed length lets the S3 assembly send what it holds as parts before the next piece.
        await target.truncate(length);
        await target.appendObject(tusDataKey(partial.id));
        length += partial.size;
        claim.live.setBytes(length);
      }
      await this.uploads.store.seal(uploadId, size);
      await claim.finalise({
        category: claim.record.fileType,
        stagedKey: tusDataKey(uploadId),
        size,
        // No running hash: the upload core streams the assembled object.
        refusal: contentRefused,
        abandon: { endOwn: discardOwn },
        signal: claim.live.signal,
      });
    } catch (error) {
      const cancelled = claim.live.signal.aborted;
      const reason = cancelled
        ? 'Cancelled while its partial uploads were assembled'
        : 'The final upload could not be stored';
      // A refusal has ended the final upload already (this is then a no-op).
      await claim
        .abandon({ status: cancelled ? 'cancelled' : 'failed', reason, endOwn: discardOwn })
        .catch(() => undefined);
      if (isContentRefusal(error)) {
        const why = `Its final upload ${uploadId} was refused: ${(error as Error).message}`;
        for (const partial of partials) await this.uploads.discardLocked(userId, partial.id, 'failed', why);
      }
      throw error;
    } finally {
      await claim.release();
    }
  }

  /** The caller's partial upload `id`: 404 when missing or another user's, 400 when not a partial upload. */
  private async partialRecord(userId: string, id: string) {
    const record = await this.records.findOwned(userId, id);
    if (!record || record.source !== 'tus') throw notFound();
    if (record.concat !== 'partial') throw invalidConcat(`Upload ${id} is not a partial upload`);
    if (record.status !== 'uploading') {
      throw new ApiError(HttpStatus.GONE, 'UPLOAD_GONE', `The partial upload ${id} is ${record.status}`);
    }
    return record;
  }

  /**
   * Under its lock: the partial upload with all its bytes, sealed into one object (again: its last PATCH did, unless
   * the instance serving it died in between). 400 while bytes are missing: we do not offer concatenation-unfinished.
   */
  private async completePartial(userId: string, id: string): Promise<PartialSlice> {
    const record = await this.partialRecord(userId, id);
    const size = record.expectedSize;
    const stored = (await storedBytes(this.storage, id)) ?? 0;
    if (size == null || stored !== size) {
      throw new ApiError(
        HttpStatus.BAD_REQUEST,
        'PARTIAL_UPLOAD_INCOMPLETE',
        `The partial upload ${id} holds ${stored} of ${size ?? 'an undeclared number of'} bytes; finish it first`,
      );
    }
    await this.uploads.store.seal(id, size);
    return { id, size };
  }

  /** Takes the tus locks in id order, so two final uploads naming the same partials never wait for each other. */
  private async lockAll(ids: string[]): Promise<Held[]> {
    const held: Held[] = [];
    try {
      for (const id of [...ids].sort()) held.push(await this.uploads.lease(id).take());
      return held;
    } catch (error) {
      await Promise.all(held.map((lock) => lock.release().catch(() => undefined)));
      throw error;
    }
  }

  /** A consumed partial upload goes entirely: bytes, tus info, progress and record. Failures are only logged. */
  private async removePartial(userId: string, id: string): Promise<void> {
    try {
      await this.tracker.get(userId, id)?.finish('completed');
      await this.uploads.store.discard(id);
      await this.progress.remove(userId, id);
      await this.records.remove(userId, id);
    } catch (error) {
      // It stays `uploading` and expires like any unfinished upload, which removes what is left.
      this.logger.warn(`partial upload ${id} not removed: ${(error as Error).message}`);
    }
  }
}

/** The final upload's Upload-Metadata (fileType, filename, …), as for any creation. */
function readMetadata(header: string | undefined): Upload['metadata'] {
  if (!header) return undefined;
  try {
    return Metadata.parse(header);
  } catch {
    throw new ApiError(HttpStatus.BAD_REQUEST, 'INVALID_METADATA', 'Upload-Metadata is malformed');
  }
}
