import { Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { AppConfig } from '../config';
import { UploadSource } from '../common/uploads/upload-status';
import { Canceller, LiveUpload } from './live-upload';
import { percentOf, ProgressView } from './progress-view';
import { ProgressRecord, UploadProgressService } from './upload-progress.service';
import { withDatabaseRetry } from '../common/errors/database-errors';
import { SharedProgress } from './shared-progress';

export interface StartTracking {
  userId: string;
  uploadId: string;
  source: UploadSource;
  totalBytes: number | null;
  /** True when `totalBytes` is only an upper bound (a multipart body's length). */
  totalIsEstimate?: boolean;
  /** Bytes already stored, for a resumed upload. */
  bytesUploaded?: number;
  canceller: Canceller;
}

const key = (userId: string, uploadId: string) => `${userId}/${uploadId}`;

/**
 * Live progress of the uploads this instance holds. Reads come from memory; writes to MongoDB happen on one
 * timer every PROGRESS_PERSIST_MS for whatever changed, never once per network chunk. The same tick picks up
 * cancel requests made on other instances. With REDIS_URL, held uploads are also shared live (SharedProgress)
 * and reads of uploads held elsewhere come from that shared copy first.
 */
@Injectable()
export class ProgressTracker implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(ProgressTracker.name);
  private readonly live = new Map<string, LiveUpload>();
  private readonly persistMs: number;
  private timer?: NodeJS.Timeout;
  private ticking = false;
  /** The tick's write of each upload, while it is in flight. */
  private readonly saving = new Map<LiveUpload, Promise<unknown>>();

  constructor(
    private readonly records: UploadProgressService,
    private readonly shared: SharedProgress,
    config: ConfigService<AppConfig, true>,
  ) {
    this.persistMs = config.get('uploads', { infer: true }).progressPersistMs;
  }

  onModuleInit(): void {
    this.timer = setInterval(() => void this.tick(), this.persistMs);
    this.timer.unref();
  }

  async onModuleDestroy(): Promise<void> {
    clearInterval(this.timer);
    this.shared.stopAll();
    await this.persistDirty();
  }

  /** Starts (or resumes) tracking an upload whose bytes this instance is about to receive. */
  async start(input: StartTracking): Promise<LiveUpload> {
    const existing = this.live.get(key(input.userId, input.uploadId));
    if (existing && !existing.ended) return existing;
    const bytes = input.bytesUploaded ?? 0;
    const record = await this.records.open(
      input.userId,
      input.uploadId,
      input.source,
      input.totalBytes,
      bytes,
      input.totalIsEstimate ?? false,
    );
    const upload = new LiveUpload({ ...input, bytesUploaded: bytes, startTime: record.startTime }, (ended) =>
      this.end(ended),
    );
    this.live.set(key(input.userId, input.uploadId), upload);
    this.shared.share(upload);
    return upload;
  }

  /** The live upload, when this instance holds it. */
  get(userId: string, uploadId: string): LiveUpload | undefined {
    return this.live.get(key(userId, uploadId));
  }

  /**
   * Progress from memory when held here, else MongoDB; null when the caller owns no such upload. With REDIS_URL,
   * an unfinished record yields to the holder's fresher shared copy; a finished one wins over a copy a dead holder
   * left behind.
   */
  async view(userId: string, uploadId: string): Promise<ProgressView | null> {
    const upload = this.get(userId, uploadId);
    if (upload) return this.withReportedProcessing(userId, upload.view());
    const [record, shared] = await Promise.all([
      this.records.findOwned(userId, uploadId),
      this.shared.read(userId, uploadId),
    ]);
    if (!record) return null;
    return shared && record.status === 'uploading' ? shared : toView(record);
  }

  /**
   * A just-completed upload is held here until its end is shared, and its processing may have been reported to
   * the record meanwhile (a fast job): the record's processing wins over the live view's `pending`.
   */
  private async withReportedProcessing(userId: string, view: ProgressView): Promise<ProgressView> {
    if (view.status !== 'completed') return view;
    const record = await this.records.findOwned(userId, view.uploadId);
    return record?.processing ? { ...view, processing: record.processing } : view;
  }

  private async end(upload: LiveUpload): Promise<void> {
    try {
      // A tick may be writing this upload's `uploading` state right now; the final write must land after it,
      // or (as seen with clients aborting mid-body) the record stays `uploading` forever.
      await this.saving.get(upload)?.catch(() => undefined);
      // The terminal state must not be lost to a transient SQLITE_BUSY (the record would stay `uploading`).
      await withDatabaseRetry(() => this.records.save(upload.view(), upload.userId));
      upload.dirty = false;
    } finally {
      const forget = () => {
        if (this.live.get(key(upload.userId, upload.uploadId)) === upload)
          this.live.delete(key(upload.userId, upload.uploadId));
      };
      // Shared after the record holds it, so a reader told of the end finds it there. Held here until the shared
      // copy is gone (no stale read on this instance), but not awaited: a slow Redis never delays the answer.
      if (this.shared.enabled) void this.shared.ended(upload).finally(forget);
      else forget();
    }
  }

  private async tick(): Promise<void> {
    if (this.ticking) return; // a slow database must not pile up overlapping ticks
    this.ticking = true;
    try {
      await this.persistDirty();
      await this.applyRemoteCancels();
    } catch (error) {
      this.logger.warn(`progress tick failed: ${(error as Error).message}`);
    } finally {
      this.ticking = false;
    }
  }

  private async persistDirty(): Promise<void> {
    const dirty = [...this.live.values()].filter((upload) => upload.dirty && !upload.ended);
    await Promise.all(
      dirty.map(async (upload) => {
        upload.dirty = false;
        const saved = this.records.save(upload.view(), upload.userId);
        this.saving.set(upload, saved);
        try {
          await saved;
        } finally {
          if (this.saving.get(upload) === saved) this.saving.delete(upload);
        }
      }),
    );
  }

  private async applyRemoteCancels(): Promise<void> {
    const uploads = [...this.live.values()];
    const requests = await this.records.pendingCancels(uploads);
    for (const request of requests) {
      const upload = this.get(String(request.userId), request.uploadId);
      if (!upload) continue;
      await upload.cancel('Cancelled by the user').catch((error: Error) => {
        this.logger.error(`cancel of ${upload.uploadId} failed: ${error.message}`);
      });
      await this.records.clearCancel(upload.userId, upload.uploadId);
    }
  }
}

export function toView(record: ProgressRecord): ProgressView {
  return {
    success: true,
    uploadId: record.uploadId,
    source: record.source,
    bytesUploaded: record.bytesUploaded,
    totalBytes: record.totalBytes,
    totalIsEstimate: record.totalIsEstimate ?? false,
    percentComplete: percentOf(
      record.bytesUploaded,
      record.totalBytes,
      record.status,
      record.percentComplete / 100,
    ),
    status: record.status,
    speed: record.status === 'uploading' ? record.speed : 0,
    remainingTime: record.status === 'uploading' ? record.remainingTime : null,
    startTime: record.startTime,
    lastUpdateTime: record.lastUpdateTime,
    completedTime: record.completedTime,
    reason: record.reason ?? null,
    processing: record.processing ?? null,
  };
}
