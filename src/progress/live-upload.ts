import { UploadSource, UploadStatus } from '../common/uploads/upload-status';
import { percentOf, ProgressView, remainingSeconds } from './progress-view';
import { SpeedWindow } from './speed-window';

/** Cleans up an upload that is being cancelled: stop writing, delete its bytes, end its MediaUpload record. */
export type Canceller = (reason: string) => Promise<void>;

export interface LiveUploadInit {
  userId: string;
  uploadId: string;
  source: UploadSource;
  totalBytes: number | null;
  /** True when `totalBytes` is only an upper bound (a multipart body's length). */
  totalIsEstimate?: boolean;
  bytesUploaded: number;
  startTime: Date;
  canceller: Canceller;
}

type Listener = (view: ProgressView) => void;

/**
 * An upload whose bytes this instance holds: counters in memory, updated on every network chunk at the cost of
 * a few additions. The tracker persists it at a bounded rate; listeners (SSE) are told of every change.
 */
export class LiveUpload {
  readonly userId: string;
  readonly uploadId: string;
  readonly source: UploadSource;
  readonly startTime: Date;
  /** Aborted when the upload is cancelled; the code streaming its bytes listens to it. */
  readonly signal: AbortSignal;
  /** True when the in-memory state changed since the last persist. */
  dirty = true;

  private readonly canceller: Canceller;
  private readonly controller = new AbortController();
  private readonly speed = new SpeedWindow();
  private readonly listeners = new Set<Listener>();
  private readonly watchers = new Set<() => void>();
  private bytes: number;
  private total: number | null;
  private totalIsEstimate: boolean;
  private fraction: number | null = null;
  private status: UploadStatus = 'uploading';
  private reason: string | null = null;
  private lastUpdate: Date;
  private completedAt: Date | null = null;
  private ending?: Promise<void>;

  constructor(
    init: LiveUploadInit,
    private readonly onEnd: (upload: LiveUpload) => Promise<void>,
  ) {
    this.userId = init.userId;
    this.uploadId = init.uploadId;
    this.source = init.source;
    this.startTime = init.startTime;
    this.bytes = init.bytesUploaded;
    this.total = init.totalBytes;
    this.totalIsEstimate = init.totalIsEstimate ?? false;
    this.lastUpdate = new Date();
    this.signal = this.controller.signal;
    this.canceller = init.canceller;
  }

  get bytesUploaded(): number {
    return this.bytes;
  }

  get ended(): boolean {
    return this.ending !== undefined;
  }

  /** Counts bytes that reached storage. */
  add(bytes: number): void {
    this.bytes += bytes;
    this.touch();
  }

  /** Sets the absolute count, e.g. when a resumed upload reports its offset. */
  setBytes(bytes: number): void {
    this.bytes = bytes;
    this.touch();
  }

  setTotal(total: number | null, estimate = false): void {
    this.total = total;
    this.totalIsEstimate = estimate && total !== null;
    this.touch();
  }

  /** Progress as a fraction (0-1) for sources that know no byte total, e.g. chunks received / total chunks. */
  setFraction(fraction: number | null): void {
    this.fraction = fraction;
    this.touch();
  }

  view(): ProgressView {
    const now = Date.now();
    const speed = this.status === 'uploading' ? this.speed.bytesPerSecond(now) : 0;
    return {
      success: true,
      uploadId: this.uploadId,
      source: this.source,
      bytesUploaded: this.bytes,
      totalBytes: this.total,
      totalIsEstimate: this.totalIsEstimate,
      percentComplete: percentOf(this.bytes, this.total, this.status, this.fraction),
      status: this.status,
      speed,
      remainingTime: this.status === 'uploading' ? remainingSeconds(this.bytes, this.total, speed) : null,
      startTime: this.startTime,
      lastUpdateTime: this.lastUpdate,
      completedTime: this.completedAt,
      reason: this.reason,
      // Every completed upload is queued for processing; the runner reports on from here (ProcessingProgressService).
      processing: this.status === 'completed' ? { status: 'pending' } : null,
    };
  }

  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Like subscribe, without building a view per change: for callers that sample the view at their own rate. */
  watch(watcher: () => void): () => void {
    this.watchers.add(watcher);
    return () => this.watchers.delete(watcher);
  }

  /**
   * Ends the upload with a terminal status: persisted at once, pushed to listeners, and removed from the tracker.
   * Only the first call counts, so racing failure paths (client abort vs cancel) cannot overwrite each other.
   */
  finish(status: Exclude<UploadStatus, 'uploading'>, reason?: string): Promise<void> {
    if (!this.ending) {
      this.status = status;
      this.reason = reason ?? null;
      this.completedAt = status === 'completed' ? new Date() : null;
      if (status === 'completed' && (this.total === null || this.totalIsEstimate)) {
        this.total = this.bytes;
        this.totalIsEstimate = false;
      }
      this.touch();
      this.ending = this.onEnd(this);
    }
    return this.ending;
  }

  /** Cancels: aborts the stream (if one is running), lets the owner clean up, then ends as `cancelled`. */
  cancel(reason: string): Promise<void> {
    if (this.ending) return this.ending;
    this.controller.abort(new UploadCancelledError(reason));
    return this.canceller(reason).then(() => this.finish('cancelled', reason));
  }

  private touch(): void {
    const now = Date.now();
    this.lastUpdate = new Date(now);
    this.speed.record(now, this.bytes);
    this.dirty = true;
    for (const watcher of this.watchers) watcher();
    if (this.listeners.size > 0) {
      const view = this.view();
      for (const listener of this.listeners) listener(view);
    }
  }
}

/** The abort reason of a cancelled upload's signal. */
export class UploadCancelledError extends Error {
  override name = 'UploadCancelledError';
}
