import { HttpStatus, Injectable, Logger } from '@nestjs/common';
import { MediaCategory, MediaRecordsService, SNIFF_BYTES, sniffMediaType } from '../../media';
import { unsupportedType } from '../../media';
import { toUploadResponse } from '../../media';
import { Assembly, StorageDriver } from '../../storage';
import type { StoredUpload, UploadClaim } from '../../upload-core';
import { ietfDataKey } from './ietf-keys';
import { digestMismatch } from './ietf-problems';
import type { IetfUploadState } from './ietf-upload-state';

/** A final answer: status, header fields, and the upload JSON once the upload is complete. */
export interface IetfAnswer {
  status: number;
  headers: Record<string, string>;
  body?: object;
}

/** An upload whose last byte is stored, under its request's claim. */
export interface Completion {
  claim: UploadClaim;
  state: IetfUploadState;
  assembly: Assembly;
  size: number;
  /** The running SHA-256, when it covers the whole file (else the core hashes the stored file). */
  sha256?: string;
  location?: string;
  /** Deletes what only this protocol keeps for the upload. */
  endOwn: () => Promise<void>;
}

/** How a complete IETF-draft upload becomes media, through the upload core. */
@Injectable()
export class IetfCompletion {
  private readonly logger = new Logger(IetfCompletion.name);

  constructor(
    private readonly records: MediaRecordsService,
    private readonly storage: StorageDriver,
  ) {}

  /**
   * All bytes are in: the upload core finalises them (sniff, allow-list, Repr-Digest, probe, promote, processing).
   * An undeclared category is the sniffed content's. The record and the upload JSON are the multipart upload's.
   */
  async complete({
    claim,
    state,
    assembly,
    size,
    sha256,
    location,
    endOwn,
  }: Completion): Promise<IetfAnswer> {
    const { uploadId } = claim;
    const key = ietfDataKey(uploadId);
    let stored: StoredUpload;
    try {
      // The bytes become one readable object (S3: the multipart upload completes) before they are checked.
      await assembly.seal(size);
      const category = state.inferCategory ? await this.inferCategory(claim, key) : claim.record.fileType;
      const expected = state.sha256;
      stored = await claim.finalise({
        category,
        stagedKey: key,
        size,
        sha256,
        refusal: unsupportedType,
        verify: expected
          ? (file) => {
              if (file.sha256 !== expected) throw digestMismatch(expected, file.sha256);
            }
          : undefined,
        abandon: { endOwn },
      });
    } catch (error) {
      // A refusal has ended the upload already (this is then a no-op); any other failure ends it here.
      const reason = 'The finished upload could not be stored';
      await claim.abandon({ status: 'failed', reason, keys: [key], endOwn }).catch(() => undefined);
      throw error;
    }
    await endOwn().catch((error: Error) => this.logger.warn(`ietf upload ${uploadId}: ${error.message}`));
    // Whatever the key still holds (S3: a piece a dead instance was writing) goes; the sweeper catches a failure.
    await this.storage.remove(key).catch(() => undefined);
    return {
      status: HttpStatus.CREATED,
      headers: { ...(location ? { Location: location } : {}), 'Upload-Complete': '?1' },
      body: toUploadResponse(stored.record),
    };
  }

  /** The sniffed content's category, kept on the record so the library lists the upload under it. */
  private async inferCategory(claim: UploadClaim, key: string): Promise<MediaCategory> {
    const type = await sniffMediaType(await this.storage.readHead(key, SNIFF_BYTES));
    if (!type) return claim.record.fileType; // refused by the finaliser's own sniff
    const expiresAt = claim.record.expiresAt ?? new Date();
    await this.records.touch(claim.userId, claim.uploadId, expiresAt, { fileType: type.kind });
    return type.kind;
  }
}
