import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import { Model, Types } from 'mongoose';
import { ownedKey } from '../../common/uploads/owned-key';
import { MediaCategory, UploadStatus } from '../../common/uploads/upload-status';
import { CHUNK_METADATA_BYTES, SESSION_METADATA_BYTES } from './chunk-rules';
import { ChunkSession } from './schemas/chunk-session.schema';

export type ChunkSessionRecord = ChunkSession;

export interface NewChunkSession {
  userId: string;
  fileId: string;
  uploadId: string;
  fileType: MediaCategory;
  expiresAt: Date;
}

/** The fields a committed chunk changes: a fixed set of numbers, so the write never grows with the session. */
export interface ChunkProgress {
  receivedCount: number;
  manifestBytes: number;
  nextIndex: number;
  assembledBytes: number;
  bytesReceived: number;
  totalChunks: number | null;
  expiresAt: Date;
}

const DUPLICATE_KEY = 11000;

/** Thrown when another request (on another instance) created the session first. */
export class SessionExistsError extends Error {
  override name = 'SessionExistsError';
}

/** Owner-scoped filter: the owner is part of the key (see ownedKey). */
const byFileId = (userId: string, fileId: string) => ({ _id: ownedKey(userId, fileId) });

/**
 * The chunk_sessions collection. Every filter names the owner. Writes happen only under the session lock (see
 * SeedChunkService), because FerretDB does not isolate concurrent updates of one document.
 */
@Injectable()
export class ChunkSessionsService {
  constructor(@InjectModel(ChunkSession.name) private readonly sessions: Model<ChunkSession>) {}

  find(userId: string, fileId: string): Promise<ChunkSessionRecord | null> {
    return this.sessions.findOne(byFileId(userId, fileId)).lean<ChunkSessionRecord>().exec();
  }

  findByUploadId(userId: string, uploadId: string): Promise<ChunkSessionRecord | null> {
    return this.sessions
      .findOne({ userId: new Types.ObjectId(userId), uploadId })
      .lean<ChunkSessionRecord>()
      .exec();
  }

  /** Claims (userId, fileId) by inserting its key: atomic, so two racing first chunks create one session. */
  async create(session: NewChunkSession): Promise<ChunkSessionRecord> {
    try {
      const created = await this.sessions.create({
        ...session,
        _id: ownedKey(session.userId, session.fileId),
        userId: new Types.ObjectId(session.userId),
        status: 'uploading',
      });
      return created.toObject();
    } catch (error) {
      if ((error as { code?: number }).code === DUPLICATE_KEY) throw new SessionExistsError(session.fileId);
      throw error;
    }
  }

  /** Records a committed chunk; returns the session as now stored (no read back: the caller holds the lock). */
  async saveProgress(session: ChunkSessionRecord, progress: ChunkProgress): Promise<ChunkSessionRecord> {
    const updatedAt = new Date();
    const result = await this.sessions
      .updateOne(byFileId(String(session.userId), session.fileId), { $set: { ...progress, updatedAt } })
      .exec();
    if (result.matchedCount !== 1) throw new Error(`chunk session ${session.fileId} vanished`);
    return { ...session, ...progress, updatedAt };
  }

  async complete(userId: string, fileId: string, fileSize: number, storageKey: string): Promise<void> {
    await this.sessions
      .updateOne(byFileId(userId, fileId), {
        $set: { status: 'completed', fileSize, storageKey, completedAt: new Date() },
        $unset: { expiresAt: 1 },
      })
      .exec();
  }

  /** Ends a session whose bytes are gone: nothing is left to resume, so its chunk list is cleared too. */
  async end(
    userId: string,
    fileId: string,
    status: Exclude<UploadStatus, 'uploading' | 'completed'>,
    reason: string,
  ): Promise<void> {
    await this.sessions
      .updateOne(byFileId(userId, fileId), {
        $set: {
          status,
          reason,
          receivedCount: 0,
          manifestBytes: 0,
          nextIndex: 0,
          assembledBytes: 0,
          bytesReceived: 0,
        },
        $unset: { expiresAt: 1 },
      })
      .exec();
  }

  /**
   * Bytes held by the user's unfinished chunk sessions, metadata included (a fixed charge per session and per
   * received chunk), so many tiny chunks cannot fill the disk under the storage quota.
   */
  async openBytes(userId: string): Promise<number> {
    const sessions = await this.sessions
      .find(
        { userId: new Types.ObjectId(userId), status: 'uploading' },
        { bytesReceived: 1, receivedCount: 1 },
      )
      .lean<{ bytesReceived?: number; receivedCount?: number }[]>()
      .exec();
    return sessions.reduce(
      (sum, session) =>
        sum +
        SESSION_METADATA_BYTES +
        (session.bytesReceived ?? 0) +
        (session.receivedCount ?? 0) * CHUNK_METADATA_BYTES,
      0,
    );
  }

  /** Undoes a session whose first chunk failed, so a failed request leaves nothing behind. */
  async remove(userId: string, fileId: string): Promise<void> {
    await this.sessions.deleteOne(byFileId(userId, fileId)).exec();
  }
}
