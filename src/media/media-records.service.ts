import { HttpStatus, Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import mongoose, { Model, QueryFilter, Types } from 'mongoose';
import { ApiError } from '../common/errors/api-error';
import { ErrorCode } from '../common/errors/error-code';
import { UPLOAD_KEY_PATTERN, ownedKey } from '../common/uploads/owned-key';
import { MediaCategory, UploadSource, UploadStatus } from '../common/uploads/upload-status';
import type { DerivedFiles, MediaMetadata, ProcessingState } from '../processing';
import { MediaUpload, TusConcatRole } from './schemas/media-upload.schema';

export type MediaRecord = MediaUpload & { _id: string };

export interface NewUploadRecord {
  userId: string;
  uploadId: string;
  source: UploadSource;
  fileType: MediaCategory;
  title?: string;
  description?: string;
  chatId?: string;
  groupId?: string;
  originalName?: string;
  expectedSize?: number | null;
  expiresAt: Date;
  /** tus concatenation (see MediaUpload.concat). */
  concat?: TusConcatRole;
}

export interface StoredFileFacts {
  fileName: string;
  mimeType: string;
  fileSize: number;
  storageKey: string;
  checksumSha256: string;
  /** From the probe at finalisation. */
  metadata?: MediaMetadata;
}

export interface MediaListQuery {
  limit: number;
  cursor?: string;
  fileType?: MediaCategory;
  status?: UploadStatus;
  chatId?: string;
}

const DUPLICATE_KEY = 11000;

/** Owner-scoped filter: the owner is part of the key (see ownedKey). */
function owned(userId: string, uploadId: string): QueryFilter<MediaUpload> {
  return { _id: ownedKey(userId, uploadId) };
}

/** Opaque list cursor: the (uploadedAt, _id) of the last item of the previous page. */
function encodeCursor(record: MediaRecord): string {
  return Buffer.from(`${record.uploadedAt.getTime()}.${String(record._id)}`).toString('base64url');
}

function decodeCursor(cursor: string): { at: Date; id: string } {
  const [ms, id, ...rest] = Buffer.from(cursor, 'base64url').toString().split('.');
  if (rest.length > 0 || !/^\d{1,15}$/.test(ms ?? '') || !UPLOAD_KEY_PATTERN.test(id ?? '')) {
    throw new ApiError(HttpStatus.BAD_REQUEST, ErrorCode.BAD_REQUEST, 'cursor is not valid');
  }
  return { at: new Date(Number(ms)), id };
}

/** The media_uploads collection: every read and write of MediaUpload records goes through here. */
@Injectable()
export class MediaRecordsService {
  constructor(@InjectModel(MediaUpload.name) private readonly records: Model<MediaUpload>) {}

  async create(record: NewUploadRecord): Promise<MediaRecord> {
    try {
      const created = await this.records.create({
        ...record,
        _id: ownedKey(record.userId, record.uploadId),
        userId: new Types.ObjectId(record.userId),
        chatId: record.chatId ? new Types.ObjectId(record.chatId) : undefined,
        groupId: record.groupId ? new Types.ObjectId(record.groupId) : undefined,
        status: 'uploading',
        fileUrl: contentUrl(record.uploadId),
      });
      return created.toObject();
    } catch (error) {
      if ((error as { code?: number }).code === DUPLICATE_KEY) {
        throw uploadIdTaken(record.uploadId);
      }
      throw error;
    }
  }

  findOwned(userId: string, uploadId: string): Promise<MediaRecord | null> {
    return this.records.findOne(owned(userId, uploadId)).lean<MediaRecord>().exec();
  }

  async complete(userId: string, uploadId: string, facts: StoredFileFacts): Promise<MediaRecord> {
    const updated = await this.records
      .findOneAndUpdate(
        owned(userId, uploadId),
        {
          $set: {
            ...facts,
            status: 'completed',
            completedAt: new Date(),
            processing: { status: 'pending', attempts: 0, updatedAt: new Date() } satisfies ProcessingState,
          },
          $unset: { expiresAt: 1 },
        },
        { returnDocument: 'after' },
      )
      .lean<MediaRecord>()
      .exec();
    if (!updated) throw new Error(`media record ${uploadId} vanished before completion`);
    return updated;
  }

  /**
   * Records where the processing of a completed upload stands, and the files it made. Answers false when the
   * record is gone (deleted meanwhile: the caller removes what it made).
   */
  async setProcessing(
    userId: string,
    uploadId: string,
    processing: ProcessingState,
    derived?: DerivedFiles,
  ): Promise<boolean> {
    const result = await this.records
      .updateOne(owned(userId, uploadId), { $set: { processing, ...(derived ? { derived } : {}) } })
      .exec();
    return result.matchedCount > 0;
  }

  /** Completed uploads whose processing never finished (a restart re-queues them), oldest first. */
  findUnprocessed(limit: number): Promise<MediaRecord[]> {
    return this.records
      .find({ status: 'completed', 'processing.status': mongoose.trusted({ $in: ['pending', 'running'] }) })
      .sort({ completedAt: 1 })
      .limit(limit)
      .lean<MediaRecord[]>()
      .exec();
  }

  /**
   * Bytes the user's uploads hold against their quota: the size of every completed file plus the declared size
   * of every unfinished upload that declared one (tus `Upload-Length`).
   */
  async usedBytes(userId: string): Promise<number> {
    // Summed here, not with $group: FerretDB v1's $sum gives 0 for a group where some values are null.
    const records = await this.records
      .find(
        { userId: new Types.ObjectId(userId), status: mongoose.trusted({ $in: ['completed', 'uploading'] }) },
        { status: 1, fileSize: 1, expectedSize: 1 },
      )
      .lean<Pick<MediaUpload, 'status' | 'fileSize' | 'expectedSize'>[]>()
      .exec();
    return records.reduce(
      (sum, record) => sum + ((record.status === 'completed' ? record.fileSize : record.expectedSize) ?? 0),
      0,
    );
  }

  /** Ends an unfinished upload as failed, cancelled or expired, with the reason. */
  async end(
    userId: string,
    uploadId: string,
    status: Exclude<UploadStatus, 'uploading' | 'completed'>,
    reason: string,
  ) {
    const now = new Date();
    await this.records
      .updateOne(owned(userId, uploadId), {
        $set: { status, failureReason: reason, ...(status === 'cancelled' ? { cancelledAt: now } : {}) },
        $unset: { expiresAt: 1 },
      })
      .exec();
  }

  /** Records activity on an unfinished upload: it expires later. */
  async touch(
    userId: string,
    uploadId: string,
    expiresAt: Date,
    extra: Partial<MediaUpload> = {},
  ): Promise<void> {
    await this.records.updateOne(owned(userId, uploadId), { $set: { ...extra, expiresAt } }).exec();
  }

  async remove(userId: string, uploadId: string): Promise<void> {
    await this.records.deleteOne(owned(userId, uploadId)).exec();
  }

  /** Newest first, with an opaque cursor for the next page. */
  async list(
    userId: string,
    query: MediaListQuery,
  ): Promise<{ items: MediaRecord[]; nextCursor: string | null }> {
    // A tus partial upload is a slice of a file, never media of its own.
    const filter: QueryFilter<MediaUpload> = {
      userId: new Types.ObjectId(userId),
      concat: mongoose.trusted({ $ne: 'partial' }),
    };
    if (query.fileType) filter.fileType = query.fileType;
    if (query.status) filter.status = query.status;
    if (query.chatId) filter.chatId = new Types.ObjectId(query.chatId);
    if (query.cursor) {
      const { at, id } = decodeCursor(query.cursor);
      // Built by the server from a decoded cursor, so its operators are trusted (sanitizeFilter is on).
      filter.$or = mongoose.trusted([
        { uploadedAt: mongoose.trusted({ $lt: at }) },
        { uploadedAt: at, _id: mongoose.trusted({ $lt: id }) },
      ]);
    }
    const items = await this.records
      .find(filter)
      .sort({ uploadedAt: -1, _id: -1 })
      .limit(query.limit + 1)
      .lean<MediaRecord[]>()
      .exec();
    const page = items.slice(0, query.limit);
    return {
      items: page,
      nextCursor: items.length > query.limit ? encodeCursor(page[page.length - 1]) : null,
    };
  }

  /** Unfinished uploads whose expiry has passed, for the sweeper. */
  findExpired(now: Date, limit: number): Promise<MediaRecord[]> {
    return this.records
      .find({ status: 'uploading', expiresAt: mongoose.trusted({ $lte: now }) })
      .limit(limit)
      .lean<MediaRecord[]>()
      .exec();
  }
}

/** The authenticated content route of an upload. */
export function contentUrl(uploadId: string): string {
  return `/api/media/${uploadId}/content`;
}

/** 409 for an upload id that is taken: by a stored record, or by a request of it still in flight on any instance. */
export function uploadIdTaken(uploadId: string): ApiError {
  return new ApiError(HttpStatus.CONFLICT, 'UPLOAD_ID_TAKEN', `Upload id ${uploadId} is already used`);
}
