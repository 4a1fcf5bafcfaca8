import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import mongoose, { Model, Types } from 'mongoose';
import { ownedKey } from '../common/uploads/owned-key';
import { UploadSource, UploadStatus } from '../common/uploads/upload-status';
import { ProcessingProgress, ProgressView } from './progress-view';
import { CancelRequest } from './schemas/cancel-request.schema';
import { UploadProgress } from './schemas/upload-progress.schema';

export type ProgressRecord = UploadProgress;

/** Owner-scoped filter: the owner is part of the key (see ownedKey). */
function owned(userId: string, uploadId: string) {
  return { _id: ownedKey(userId, uploadId) };
}

/** The upload_progress and upload_cancel_requests collections. */
@Injectable()
export class UploadProgressService {
  constructor(
    @InjectModel(UploadProgress.name) private readonly progress: Model<UploadProgress>,
    @InjectModel(CancelRequest.name) private readonly cancelRequests: Model<CancelRequest>,
  ) {}

  /** Creates the record, or reopens it for a resumed upload (keeping its start time). */
  async open(
    userId: string,
    uploadId: string,
    source: UploadSource,
    totalBytes: number | null,
    bytes: number,
    totalIsEstimate = false,
  ) {
    const now = new Date();
    const upsert = () =>
      this.progress
        .findOneAndUpdate(
          owned(userId, uploadId),
          {
            $set: {
              status: 'uploading',
              totalBytes,
              totalIsEstimate,
              bytesUploaded: bytes,
              lastUpdateTime: now,
              completedTime: null,
            },
            $setOnInsert: { userId: new Types.ObjectId(userId), uploadId, source, startTime: now },
          },
          { upsert: true, returnDocument: 'after' },
        )
        .lean<ProgressRecord>()
        .exec();
    // Two instances opening one upload at once (seed chunks racing on both) both try to insert: the loser's upsert
    // fails on the key the winner just created, and run again it updates that record (MongoDB's advice for upserts).
    return upsert().catch((error: unknown) => {
      if ((error as { code?: number }).code !== 11000) throw error;
      return upsert();
    });
  }

  findOwned(userId: string, uploadId: string): Promise<ProgressRecord | null> {
    return this.progress.findOne(owned(userId, uploadId)).lean<ProgressRecord>().exec();
  }

  async save(view: ProgressView, userId: string): Promise<void> {
    const { success: _success, uploadId, source: _source, startTime: _start, ...fields } = view;
    await this.progress.updateOne(owned(userId, uploadId), { $set: fields }).exec();
  }

  /** Records what the processing runner reports for a completed upload; a deleted upload's record is left gone. */
  async setProcessing(userId: string, uploadId: string, processing: ProcessingProgress): Promise<void> {
    await this.progress.updateOne(owned(userId, uploadId), { $set: { processing } }).exec();
  }

  /** Ends a record that no live upload holds (orphaned after a restart, or expired). */
  async end(userId: string, uploadId: string, status: Exclude<UploadStatus, 'uploading'>, reason: string) {
    const now = new Date();
    await this.progress
      .updateOne(owned(userId, uploadId), {
        $set: {
          status,
          reason,
          speed: 0,
          remainingTime: null,
          lastUpdateTime: now,
          completedTime: status === 'completed' ? now : null,
        },
      })
      .exec();
  }

  async remove(userId: string, uploadId: string): Promise<void> {
    await this.progress.deleteOne(owned(userId, uploadId)).exec();
  }

  /** Records a cancel for another instance to pick up; a repeated request is a no-op (same key). */
  async requestCancel(userId: string, uploadId: string): Promise<void> {
    await this.cancelRequests
      .create({
        ...owned(userId, uploadId),
        userId: new Types.ObjectId(userId),
        uploadId,
        requestedAt: new Date(),
      })
      .catch((error) => {
        if ((error as { code?: number }).code !== 11000) throw error;
      });
  }

  /** Cancel requests addressed to any of these uploads. */
  async pendingCancels(keys: Array<{ userId: string; uploadId: string }>): Promise<CancelRequest[]> {
    if (keys.length === 0) return [];
    return this.cancelRequests
      .find({ _id: mongoose.trusted({ $in: keys.map((key) => ownedKey(key.userId, key.uploadId)) }) })
      .lean<CancelRequest[]>()
      .exec();
  }

  async clearCancel(userId: string, uploadId: string): Promise<void> {
    await this.cancelRequests.deleteOne(owned(userId, uploadId)).exec();
  }
}
