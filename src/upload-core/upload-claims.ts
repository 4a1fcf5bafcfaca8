import { Injectable, Logger } from '@nestjs/common';
import type { UploadSource } from '../common/uploads/upload-status';
import { UploadLocks } from '../coordination';
// eslint-disable-next-line no-restricted-imports -- require cycle: media's barrel loads MediaModule, which imports upload-core
import { MediaRecord, MediaRecordsService, NewUploadRecord } from '../media/media-records.service';
import { LiveUpload, ProgressTracker } from '../progress';
import { QuotaReservation, QuotaService } from '../quota';
import { UploadAbandoner } from './upload-abandoner';
import { ClaimProgress, ClaimSteps, Held, UploadClaim } from './upload-claim';
import { UploadFinaliser } from './upload-finaliser';
import { acquireUpload } from './upload-lease';

/** What a claim holds against the quota: `reserve` bytes for a streaming request, or only check `assertRoom`. */
export type ClaimQuota = { reserve: number } | { assertRoom: number };

/** The upload's lease (UploadLocks, waiting up to `waitMs`; `busy` is thrown when it stays held), or a protocol's. */
export type ClaimLease = { waitMs: number; busy: () => Error } | { take: () => Promise<Held> };

/** The MediaUpload record: created (409 when the id is taken), or loaded and checked (`check` throws to refuse). */
export type ClaimRecord =
  | { create: Omit<NewUploadRecord, 'userId' | 'uploadId' | 'source'> }
  | { load: (record: MediaRecord | null) => MediaRecord };

export interface ClaimRequest {
  userId: string;
  uploadId: string;
  source: UploadSource;
  quota?: ClaimQuota;
  lease?: ClaimLease;
  record?: ClaimRecord;
  /** Started or re-attached last; a function when it depends on the record. */
  progress?: ClaimProgress | ((record: MediaRecord | undefined) => ClaimProgress);
}

/**
 * How every protocol starts, or comes back to, an upload: quota, then lease, then record, then live progress, in
 * that order, each step undone when a later one fails (a record that was created ends `failed`), so a refused
 * claim holds nothing. What the protocol needs of the sequence, and when, it says in the request: multipart claims
 * everything once per request, tus creates at creation and re-attaches per PATCH, seed claims per chunk.
 */
@Injectable()
export class UploadClaims {
  private readonly logger = new Logger(UploadClaims.name);
  /** Progress being started, so concurrent claims of one upload on this instance share one LiveUpload. */
  private readonly starting = new Map<string, Promise<LiveUpload>>();

  constructor(
    private readonly records: MediaRecordsService,
    private readonly tracker: ProgressTracker,
    private readonly quota: QuotaService,
    private readonly locks: UploadLocks,
    private readonly finaliser: UploadFinaliser,
    private readonly abandoner: UploadAbandoner,
  ) {}

  async claim(request: ClaimRequest): Promise<UploadClaim> {
    const reservation = await this.reserve(request);
    let held: Held | undefined;
    let lost: AbortSignal | undefined;
    let created = false;
    try {
      ({ held, lost } = await this.take(request));
      const record = await this.record(request);
      created = record !== undefined && request.record !== undefined && 'create' in request.record;
      const claim = new UploadClaim(
        request.userId,
        request.uploadId,
        request.source,
        this.steps,
        record,
        reservation,
        held,
        lost,
      );
      const progress = request.progress;
      if (progress) await claim.attach(typeof progress === 'function' ? progress(record) : progress);
      return claim;
    } catch (error) {
      if (created) await this.endCreated(request);
      reservation?.release();
      await held?.release().catch(() => undefined);
      throw error;
    }
  }

  private readonly steps: ClaimSteps = {
    finalise: (input) => this.finaliser.finalise(input),
    abandon: (input) => this.abandoner.abandon(input),
    attach: (claim, progress) => this.attach(claim, progress),
  };

  private async reserve(request: ClaimRequest): Promise<QuotaReservation | undefined> {
    const quota = request.quota;
    if (!quota) return undefined;
    if ('reserve' in quota) return this.quota.reserve(request.userId, quota.reserve);
    await this.quota.assertRoom(request.userId, quota.assertRoom);
    return undefined;
  }

  private async take(request: ClaimRequest): Promise<{ held?: Held; lost?: AbortSignal }> {
    const lease = request.lease;
    if (!lease) return {};
    if ('take' in lease) return { held: await lease.take() };
    const taken = await acquireUpload(this.locks, request.userId, request.uploadId, lease.waitMs);
    if (!taken) throw lease.busy();
    return { held: taken, lost: taken.signal };
  }

  private async record(request: ClaimRequest): Promise<MediaRecord | undefined> {
    const { userId, uploadId, source } = request;
    const record = request.record;
    if (!record) return undefined;
    if ('create' in record) return this.records.create({ ...record.create, userId, uploadId, source });
    return record.load(await this.records.findOwned(userId, uploadId));
  }

  /** The live progress this instance holds for the upload, else a new one (shared by concurrent claims). */
  private async attach(
    claim: UploadClaim,
    progress: ClaimProgress,
  ): Promise<{ live: LiveUpload; resumed: boolean }> {
    const { userId, uploadId, source } = claim;
    const held = this.tracker.get(userId, uploadId);
    if (held && !held.ended) return { live: held, resumed: true };
    const key = `${userId}/${uploadId}`;
    let starting = this.starting.get(key);
    if (!starting) {
      const { bytesUploaded } = progress;
      starting = (async () =>
        this.tracker.start({
          userId,
          uploadId,
          source,
          totalBytes: progress.totalBytes,
          totalIsEstimate: progress.totalIsEstimate,
          bytesUploaded: typeof bytesUploaded === 'function' ? await bytesUploaded() : bytesUploaded,
          canceller: progress.canceller,
        }))().finally(() => this.starting.delete(key));
      this.starting.set(key, starting);
    }
    return { live: await starting, resumed: false };
  }

  /** A record this claim created, whose progress could not start, ends `failed`: nothing stays `uploading`. */
  private async endCreated({ userId, uploadId }: ClaimRequest): Promise<void> {
    await this.records
      .end(userId, uploadId, 'failed', 'Could not start the upload')
      .catch((error: Error) => this.logger.warn(`upload ${uploadId} not ended: ${error.message}`));
  }
}
