import { HttpStatus, Injectable, OnModuleInit } from '@nestjs/common';
import { ApiError } from '../../common/errors/api-error';
import { ErrorCode } from '../../common/errors/error-code';
import {
  allowedExtensions,
  isAllowedForCategory,
  MediaCategory,
  sniffMediaType,
  SNIFF_BYTES,
  SniffedType,
  type MediaRecord,
} from '../../media';
import { QuotaService, type QuotaReservation } from '../../quota';
import { StorageDriver } from '../../storage';
import { storedBytes, tusDataKey } from './tus-file.store';
import { TusKvStore } from './tus-kv.store';
import type { HeadCheck } from '../../upload-core';

/** What the bytes of one write must pass on their way to disk (see UploadMeter). */
export interface WriteRules {
  quota?: QuotaReservation;
  head?: HeadCheck;
}

/** Where a write lands: the upload, its tus id, and the offset the write starts at. */
export interface WriteTarget {
  userId: string;
  record: MediaRecord;
  /** The declared length; undefined while it is deferred. */
  size: number | undefined;
  id: string;
  offset: number;
}

/**
 * The content and quota rules of tus bytes. The content is checked as soon as the file's head has arrived (not after
 * the last byte), and bytes of an upload whose length is deferred count against the quota as they arrive (a declared
 * length counts from creation on, as the record's expectedSize).
 */
@Injectable()
export class TusWriteRules implements OnModuleInit {
  constructor(
    private readonly quota: QuotaService,
    private readonly storage: StorageDriver,
    private readonly kv: TusKvStore,
  ) {}

  onModuleInit(): void {
    this.quota.registerUsage('tus-deferred', (userId) => this.deferredBytes(userId));
  }

  async forWrite(target: WriteTarget): Promise<WriteRules> {
    const { userId, record, id, offset } = target;
    const quota = target.size === undefined ? await this.quota.reserve(userId, 0) : undefined;
    // A partial upload (tus concatenation) is a slice of a file: its content is checked once it is assembled.
    if (offset >= SNIFF_BYTES || record.concat === 'partial') return { quota };
    const prefix =
      offset > 0 ? await this.storage.assembly(tusDataKey(id)).readHead(offset) : Buffer.alloc(0);
    const check = async (head: Buffer) => void (await this.checkContent(record, head));
    return { quota, head: { prefix, needed: SNIFF_BYTES, check } };
  }

  /** 413 when a deferred length of `size` would not fit; the bytes stored so far are counted already. */
  async assertLengthFits(userId: string, id: string, size: number): Promise<void> {
    const stored = (await storedBytes(this.storage, id)) ?? 0;
    await this.quota.assertRoom(userId, size - stored);
  }

  /** The allowed type of a file with this head, or 415 when it is not one for the upload's category. */
  async checkContent(record: MediaRecord, head: Buffer): Promise<SniffedType> {
    const type = await sniffMediaType(head);
    if (type && isAllowedForCategory(record.fileType, type)) return type;
    throw contentRefused(record.fileType);
  }

  /** Bytes stored for the user's uploads whose length is still deferred (no declared size counts them yet). */
  private async deferredBytes(userId: string): Promise<number> {
    const ids = await this.kv.deferredIds(userId);
    const sizes = await Promise.all(ids.map((id) => storedBytes(this.storage, id)));
    return sizes.reduce<number>((sum, size) => sum + (size ?? 0), 0);
  }
}

/** tus's 415 for content that is not allowed for the upload's category. */
export function contentRefused(category: MediaCategory, why?: string): ApiError {
  const reason = `The content is not an allowed ${category} type (${allowedExtensions(category)})${why ? `: ${why}` : ''}`;
  return new ApiError(HttpStatus.UNSUPPORTED_MEDIA_TYPE, ErrorCode.UNSUPPORTED_MEDIA_TYPE, reason);
}

/** Whether a write was refused for its content (the upload then ends as failed). */
export function isContentRefusal(error: unknown): boolean {
  return error instanceof ApiError && error.getStatus() === Number(HttpStatus.UNSUPPORTED_MEDIA_TYPE);
}
