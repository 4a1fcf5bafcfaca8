import type { UploadSource } from '../common/uploads/upload-status';
// eslint-disable-next-line no-restricted-imports -- require cycle: media's barrel loads MediaModule, which imports upload-core
import type { MediaRecord } from '../media/media-records.service';
import type { Canceller, LiveUpload } from '../progress';
import type { QuotaReservation } from '../quota';
import type { AbandonInput } from './upload-abandoner';
import type { FinaliseInput, StoredUpload } from './upload-finaliser';

/** Live progress to start, or to re-attach to when this instance holds it already. */
export interface ClaimProgress {
  totalBytes: number | null;
  /** True when `totalBytes` is only an upper bound (a multipart body's length). */
  totalIsEstimate?: boolean;
  /** Bytes already stored (a resumed upload); read only when the progress is started, not re-attached. */
  bytesUploaded?: number | (() => Promise<number>);
  canceller: Canceller;
}

/** Something held for the claim's life: the upload's lease, or a lock its protocol keeps (tus's locker). */
export interface Held {
  release(): Promise<void>;
}

/** What the claim hands its finalise and abandon steps so they run with everything it holds. */
export interface ClaimSteps {
  finalise(input: FinaliseInput): Promise<StoredUpload>;
  abandon(input: AbandonInput): Promise<void>;
  attach(claim: UploadClaim, progress: ClaimProgress): Promise<{ live: LiveUpload; resumed: boolean }>;
}

export type ClaimFinaliseInput = Omit<FinaliseInput, 'userId' | 'uploadId' | 'source' | 'live'>;
export type ClaimAbandonInput = Omit<AbandonInput, 'userId' | 'uploadId' | 'source' | 'live' | 'quota'>;

const NEVER = new AbortController().signal;

/**
 * One upload as a protocol adapter holds it, whatever its protocol: its record, its live progress (whose signal a
 * cancel aborts), its quota reservation and its lease. `finalise` and `abandon` go through the upload core and
 * release what the claim holds; `release` lets go of it without ending the upload. Release runs once, however many
 * paths reach it.
 */
export class UploadClaim {
  private progress?: LiveUpload;
  private releasing?: Promise<void>;

  constructor(
    readonly userId: string,
    readonly uploadId: string,
    readonly source: UploadSource,
    private readonly steps: ClaimSteps,
    private readonly loaded: MediaRecord | undefined,
    private readonly quota: QuotaReservation | undefined,
    private readonly held: Held | undefined,
    /** Aborted when the lease is lost mid-request: another instance may hold the upload now, stop writing. */
    readonly lost: AbortSignal = NEVER,
  ) {}

  /** The MediaUpload record the claim created or loaded. */
  get record(): MediaRecord {
    if (!this.loaded) throw new Error(`upload ${this.uploadId} was claimed without its record`);
    return this.loaded;
  }

  /** The quota the claim holds for a streaming request; it grows as bytes arrive. */
  get reservation(): QuotaReservation {
    if (!this.quota) throw new Error(`upload ${this.uploadId} was claimed without a quota reservation`);
    return this.quota;
  }

  /** The upload's live progress; its `signal` aborts on cancel. */
  get live(): LiveUpload {
    if (!this.progress) throw new Error(`upload ${this.uploadId} was claimed without its progress`);
    return this.progress;
  }

  get attached(): boolean {
    return this.progress !== undefined;
  }

  /**
   * Starts the live progress, or re-attaches to the one this instance holds; `resumed` tells which. For protocols
   * whose progress depends on what they read under the lease (seed: the committed session).
   */
  async attach(progress: ClaimProgress): Promise<{ live: LiveUpload; resumed: boolean }> {
    const attached = await this.steps.attach(this, progress);
    this.progress = attached.live;
    return attached;
  }

  /** Finalises through UploadFinaliser; releases on success (on failure the adapter decides: retry or abandon). */
  async finalise(input: ClaimFinaliseInput): Promise<StoredUpload> {
    const stored = await this.steps.finalise({
      ...input,
      userId: this.userId,
      uploadId: this.uploadId,
      source: this.source,
      live: this.live,
    });
    await this.release();
    return stored;
  }

  /** Ends the upload through UploadAbandoner (see there), then releases whatever happens. */
  async abandon(input: ClaimAbandonInput): Promise<void> {
    try {
      await this.steps.abandon({
        ...input,
        userId: this.userId,
        uploadId: this.uploadId,
        source: this.source,
        live: this.progress,
      });
    } finally {
      await this.release();
    }
  }

  /** Lets go of the quota reservation and the lease. Idempotent: every caller after the first waits for it. */
  release(): Promise<void> {
    this.releasing ??= this.releaseOnce();
    return this.releasing;
  }

  private async releaseOnce(): Promise<void> {
    this.quota?.release();
    await this.held?.release();
  }
}
