import { Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { AppConfig } from '../../config';
import {
  isAllowedForCategory,
  MediaRecord,
  MediaRecordsService,
  SNIFF_BYTES,
  sniffMediaType,
} from '../../media';
import { unsupportedType } from '../../media';
import { QuotaService } from '../../quota';
import { Assembly, StorageDriver } from '../../storage';
import type { HeadCheck, UploadClaim } from '../../upload-core';
import { ietfDataKey } from './ietf-keys';
import type { UploadRequestFields } from './ietf-headers';
import { appendTooSmall, completedUpload, overMaxSize, uploadGone, uploadNotFound } from './ietf-problems';
import { IetfUploadStates, IetfUploadState } from './ietf-upload-state';
import { serializeDictionary } from 'structured-headers';

/** What an append must respect besides its offset: the length, once known, and the content of the file's head. */
@Injectable()
export class IetfWriteRules {
  readonly maxSize: number;
  readonly expiryMs: number;
  /** min-append-size; 0 for none. */
  private readonly minAppend: number;

  constructor(
    private readonly records: MediaRecordsService,
    private readonly storage: StorageDriver,
    private readonly states: IetfUploadStates,
    private readonly quota: QuotaService,
    config: ConfigService<AppConfig, true>,
  ) {
    const uploads = config.get('uploads', { infer: true });
    this.maxSize = uploads.maxResumableBytes;
    this.minAppend = uploads.minResumableAppendBytes;
    this.expiryMs = uploads.expirySeconds * 1000;
  }

  /** `Upload-Limit`: max-size, min-append-size (when set) and max-age (the upload's remaining lifetime, in s). */
  uploadLimit(maxAgeMs = this.expiryMs): string {
    const maxAge = Math.max(0, Math.floor(maxAgeMs / 1000));
    return serializeDictionary({
      'max-size': this.maxSize,
      ...(this.minAppend > 0 ? { 'min-append-size': this.minAppend } : {}),
      'max-age': maxAge,
    });
  }

  /**
   * min-append-size, for a request whose `Content-Length` says what it carries: an append that completes the upload
   * is exempt (the draft), and so is a creation without content (how a careful client learns the upload's URL).
   */
  assertAppendSize(fields: UploadRequestFields, creation: boolean): void {
    const sent = fields.contentLength;
    if (fields.complete || sent === undefined || sent >= this.minAppend) return;
    if (creation && sent === 0) return;
    throw appendTooSmall(this.minAppend, sent, this.uploadLimit());
  }

  /** A length indicated for the first time is recorded, and counts against the quota from then on. */
  async recordLength(
    claim: UploadClaim,
    state: IetfUploadState,
    length: number | undefined,
    expiresAt: Date,
  ): Promise<number | undefined> {
    if (length === undefined) return undefined;
    if (length > this.maxSize) throw overMaxSize(this.maxSize, this.uploadLimit());
    if (claim.record.expectedSize != null) return length;
    const { userId, uploadId } = claim;
    // The bytes stored so far are counted already (as a deferred upload's usage).
    const stored = (await this.storage.assembly(ietfDataKey(uploadId)).length()) ?? 0;
    await this.quota.assertRoom(userId, length - stored);
    await this.records.touch(userId, uploadId, expiresAt, { expectedSize: length });
    if (!state.lengthKnown) await this.states.lengthDeclared(uploadId);
    claim.live.setTotal(length);
    return length;
  }

  /** The content check run once the file's head is in: 415, and the upload ends, when it is not allowed. */
  async headCheck(assembly: Assembly, record: MediaRecord, offset: number): Promise<HeadCheck | undefined> {
    if (offset >= SNIFF_BYTES) return undefined;
    const prefix = offset > 0 ? await assembly.readHead(offset) : Buffer.alloc(0);
    const check = async (head: Buffer) => {
      const type = await sniffMediaType(head);
      if (!type || !isAllowedForCategory(record.fileType, type)) throw unsupportedType(record.fileType);
    };
    return { prefix, needed: SNIFF_BYTES, check };
  }
}

/** The upload a creation or append may write: unfinished, not expired; 400 completed-upload once complete. */
export function unfinishedUpload(record: MediaRecord | null): MediaRecord {
  if (!record || record.source !== 'ietf') throw uploadNotFound();
  if (record.status === 'completed') throw completedUpload();
  if (record.status !== 'uploading') throw uploadGone(record.status);
  if (record.expiresAt && record.expiresAt.getTime() <= Date.now()) throw uploadGone('expired');
  return record;
}
