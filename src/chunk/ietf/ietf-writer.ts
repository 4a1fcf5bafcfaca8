import { HttpStatus, Injectable } from '@nestjs/common';
import type { Request } from 'express';
import { ApiError } from '../../common/errors/api-error';
import { ErrorCode } from '../../common/errors/error-code';
import { MediaRecordsService } from '../../media';
import { Assembly, isDiskFullError, StorageDriver } from '../../storage';
import { ClaimProgress, EndStatus, UploadClaim, UploadClaims, UploadHashes } from '../../upload-core';
import { writeBody, BodyWritten } from './ietf-body-writer';
import { IetfAnswer, IetfCompletion } from './ietf-completion';
import { indicatedLength, UploadRequestFields } from './ietf-headers';
import { ietfDataKey } from './ietf-keys';
import {
  cancelled,
  inconsistentLength,
  mismatchingOffset,
  overMaxSize,
  superseded,
  uploadGone,
} from './ietf-problems';
import { HeldUpload, IetfUploadLock } from './ietf-upload-lock';
import { IetfUploadStates } from './ietf-upload-state';
import { IetfWriteRules, unfinishedUpload } from './ietf-write-rules';

/** What one creation or append request brings to the upload it holds. */
export interface Receive {
  userId: string;
  uploadId: string;
  held: HeldUpload;
  req: Request;
  fields: UploadRequestFields;
  /** The upload URL: in every answer to a creation (the draft: identical across its interim and final answers). */
  location?: string;
  /** The length is not known yet: bytes count against the quota as they arrive. */
  deferred: boolean;
  /** Sets a header field on the final answer, error answers included (`Upload-Complete: ?1` once complete). */
  setHeader: (name: string, value: string) => void;
}

/**
 * The write path of the IETF draft: appends one request's content at the upload's offset, under the upload's lock
 * and its upload-core claim, then answers the new offset or, when the request completes the upload, finalises it
 * through the upload core. The offset is always the stored bytes' length, so whatever a broken request stored counts.
 */
@Injectable()
export class IetfWriter {
  private readonly hashes = new UploadHashes();

  constructor(
    private readonly claims: UploadClaims,
    private readonly records: MediaRecordsService,
    private readonly storage: StorageDriver,
    private readonly states: IetfUploadStates,
    private readonly rules: IetfWriteRules,
    private readonly lock: IetfUploadLock,
    private readonly completion: IetfCompletion,
  ) {}

  /** MAX_RESUMABLE_BYTES: the draft's max-size. */
  get maxSize(): number {
    return this.rules.maxSize;
  }

  /** `Upload-Limit` (see IetfWriteRules.uploadLimit). */
  uploadLimit(maxAgeMs?: number): string {
    return this.rules.uploadLimit(maxAgeMs);
  }

  /** min-append-size (see IetfWriteRules.assertAppendSize). */
  assertAppendSize(fields: UploadRequestFields, creation: boolean): void {
    this.rules.assertAppendSize(fields, creation);
  }

  nextExpiry(): Date {
    return new Date(Date.now() + this.rules.expiryMs);
  }

  /** Takes the request's content into the upload (see the class); the lock `held` is released whatever happens. */
  async receive(input: Receive): Promise<IetfAnswer> {
    const { userId, uploadId, fields, held } = input;
    const claim = await this.claims.claim({
      userId,
      uploadId,
      source: 'ietf',
      // A deferred length reserves quota as bytes arrive; a known one counts from the record's expectedSize.
      quota: input.deferred ? { reserve: 0 } : undefined,
      lease: { take: () => Promise.resolve(held) },
      record: { load: (record) => unfinishedUpload(record) },
      progress: (record) => this.progressOf(userId, uploadId, record?.expectedSize ?? null),
    });
    try {
      const state = await this.states.get(uploadId);
      if (!state) throw uploadGone('gone');
      const assembly = this.storage.assembly(ietfDataKey(uploadId));
      const offset = (await assembly.length()) ?? 0;
      if (fields.offset !== undefined && fields.offset !== offset)
        throw mismatchingOffset(offset, fields.offset);
      const indicated = indicatedLength(fields, offset, claim.record.expectedSize);
      const length = await this.rules.recordLength(claim, state, indicated, this.nextExpiry());
      claim.live.setBytes(offset);
      const written = await writeBody(
        {
          body: input.req,
          uploadId,
          file: assembly.openWriteAt(offset),
          offset,
          limit: Math.min(this.maxSize, length ?? Infinity) - offset,
          tooLarge: () =>
            length !== undefined && length < this.maxSize
              ? inconsistentLength()
              : overMaxSize(this.maxSize, this.uploadLimit()),
          progress: claim.live,
          budget: input.deferred ? claim.reservation : undefined,
          head: await this.rules.headCheck(assembly, claim.record, offset),
          superseded: held.superseded,
        },
        this.hashes,
      );
      const stored =
        written.error === undefined ? offset + written.bytes : await storedLength(assembly, offset);
      if (written.error !== undefined) return await this.failed(claim, held, written, stored);
      await this.records.touch(userId, uploadId, this.nextExpiry());
      if (!fields.complete) return this.incomplete(stored, input.location);
      if (length !== undefined && stored !== length) throw inconsistentLength();
      input.setHeader('Upload-Complete', '?1');
      const sha256 = this.hashes.take(uploadId, stored);
      const endOwn = () => this.endOwn(uploadId);
      const done = { claim, state, assembly, size: stored, sha256, location: input.location, endOwn };
      return await this.completion.complete(done);
    } finally {
      await claim.release();
    }
  }

  /** Live progress of the upload; a cancel (progress cancel route) discards it. */
  progressOf(userId: string, uploadId: string, totalBytes: number | null): ClaimProgress {
    return {
      totalBytes,
      bytesUploaded: async () => (await this.storage.assembly(ietfDataKey(uploadId)).length()) ?? 0,
      canceller: (reason) => this.discard(userId, uploadId, 'cancelled', reason),
    };
  }

  /**
   * Ends an unfinished upload (DELETE, cancel, expiry): stops a request still writing it (on any instance), then
   * deletes its bytes and state and ends its records (see UploadAbandoner). Idempotent; a completed upload stays.
   */
  async discard(userId: string, uploadId: string, status: EndStatus, reason: string): Promise<void> {
    const lease = { take: () => this.lock.hold(uploadId) };
    const claim = await this.claims.claim({ userId, uploadId, source: 'ietf', lease });
    await claim.abandon({
      status,
      reason,
      keys: [ietfDataKey(uploadId)],
      endOwn: () => this.endOwn(uploadId),
    });
  }

  private incomplete(offset: number, location: string | undefined): IetfAnswer {
    return {
      status: location ? HttpStatus.CREATED : HttpStatus.NO_CONTENT,
      headers: {
        ...(location ? { Location: location } : {}),
        'Upload-Complete': '?0',
        'Upload-Offset': String(offset),
        'Upload-Limit': this.uploadLimit(),
      },
    };
  }

  /**
   * A write that stopped early. Bytes the meter refused (size, quota, content) end the upload `failed`; a cancel is
   * handled by its canceller (which waits for this request's lock); a superseded request answers where the upload
   * stands; a broken connection or storage keeps what was stored, for the client to resume.
   */
  private async failed(
    claim: UploadClaim,
    held: HeldUpload,
    written: BodyWritten,
    stored: number,
  ): Promise<never> {
    const error = written.error;
    if (claim.live.signal.aborted) throw cancelled(reasonOf(claim.live.signal.reason));
    if (written.refused) {
      await claim
        .abandon({
          status: 'failed',
          reason: reasonOf(error),
          keys: [ietfDataKey(claim.uploadId)],
          endOwn: () => this.endOwn(claim.uploadId),
        })
        .catch(() => undefined); // logged by the abandoner; the client gets the refusal
      throw error;
    }
    await this.records.touch(claim.userId, claim.uploadId, this.nextExpiry()).catch(() => undefined);
    if (held.superseded.aborted) throw superseded(stored);
    if (isDiskFullError(error)) {
      throw new ApiError(
        HttpStatus.INSUFFICIENT_STORAGE,
        ErrorCode.INSUFFICIENT_STORAGE,
        'The server is out of storage',
      );
    }
    throw error;
  }

  /** What only this protocol keeps: its state document and running hash. */
  async endOwn(uploadId: string): Promise<void> {
    this.hashes.forget(uploadId);
    await this.states.remove(uploadId);
  }
}

/** The durable offset after a write that broke off: local keeps every byte written, S3 its completed pieces. */
async function storedLength(assembly: Assembly, fallback: number): Promise<number> {
  return (await assembly.length().catch(() => undefined)) ?? fallback;
}

function reasonOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
