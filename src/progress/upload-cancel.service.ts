import { HttpStatus, Injectable, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { setTimeout as sleep } from 'node:timers/promises';
import { ApiError } from '../common/errors/api-error';
import { ErrorCode } from '../common/errors/error-code';
import { isTerminal, UploadSource } from '../common/uploads/upload-status';
import type { AppConfig } from '../config';
import { ProgressView } from './progress-view';
import { ProgressTracker } from './progress-tracker.service';
import { SharedProgress } from './shared-progress';
import { UploadProgressService } from './upload-progress.service';

/**
 * How a source module (media, chunk, tus) discards one of its unfinished uploads that no live stream holds: delete
 * its bytes and end its MediaUpload record (and its own session state) with `status`. Used by cancel and by the
 * expiry sweeper. It must be safe to call twice.
 */
export type UploadDiscarder = (
  userId: string,
  uploadId: string,
  status: 'cancelled' | 'expired',
  reason: string,
) => Promise<void>;

const REASON = 'Cancelled by the user';

/**
 * POST /api/upload/cancel/:id for every kind of upload:
 * - held here: abort the stream, let its owner delete the bytes, end as `cancelled`;
 * - held by another instance (REDIS_URL): it is asked over the bus and does the same at once;
 * - a single-request upload streaming on another instance that did not answer: leave a cancel request for its
 *   persist tick;
 * - held by no one (an idle chunk or tus session after a restart): the source module's discarder cleans up.
 */
@Injectable()
export class UploadCancelService implements OnModuleInit, OnModuleDestroy {
  private readonly discarders = new Map<UploadSource, UploadDiscarder>();
  private readonly persistMs: number;
  private stopServing?: () => Promise<void>;

  constructor(
    private readonly tracker: ProgressTracker,
    private readonly records: UploadProgressService,
    private readonly shared: SharedProgress,
    config: ConfigService<AppConfig, true>,
  ) {
    this.persistMs = config.get('uploads', { infer: true }).progressPersistMs;
  }

  async onModuleInit(): Promise<void> {
    this.stopServing = await this.shared.serveCancels((userId, uploadId) => {
      const live = this.tracker.get(userId, uploadId);
      return live && { cancel: () => live.cancel(REASON) };
    });
  }

  async onModuleDestroy(): Promise<void> {
    await this.stopServing?.().catch(() => undefined);
  }

  /** Source modules (media, chunk, tus) register, in onModuleInit, how to discard their uploads. */
  registerDiscarder(source: UploadSource, discarder: UploadDiscarder): void {
    this.discarders.set(source, discarder);
  }

  /** Discards an upload no live stream holds (cancel of an orphan, or expiry), and ends its progress record. */
  async discard(
    userId: string,
    uploadId: string,
    source: UploadSource,
    status: 'cancelled' | 'expired',
    reason: string,
  ) {
    await this.discarders.get(source)?.(userId, uploadId, status, reason);
    await this.records.end(userId, uploadId, status, reason);
  }

  async cancel(userId: string, uploadId: string): Promise<ProgressView> {
    const view = await this.tracker.view(userId, uploadId);
    if (!view) throw new ApiError(HttpStatus.NOT_FOUND, ErrorCode.NOT_FOUND, 'Upload not found');
    if (view.status === 'completed') {
      throw new ApiError(
        HttpStatus.CONFLICT,
        'UPLOAD_COMPLETED',
        `Upload ${uploadId} is already complete; delete it with DELETE /api/media/${uploadId}`,
      );
    }
    if (isTerminal(view.status)) return view; // cancelling twice is harmless

    const live = this.tracker.get(userId, uploadId);
    if (live) {
      await live.cancel(REASON);
    } else if (await this.shared.cancelOnHolder(userId, uploadId)) {
      // The holder aborted the stream, deleted the bytes and ended the records.
    } else if (view.source === 'multipart' && this.recentlyActive(view)) {
      await this.cancelOnOtherInstance(userId, uploadId);
    }
    const after = await this.tracker.view(userId, uploadId);
    if (after && !isTerminal(after.status))
      await this.discard(userId, uploadId, view.source, 'cancelled', REASON);
    return (await this.tracker.view(userId, uploadId)) as ProgressView;
  }

  private recentlyActive(view: ProgressView): boolean {
    return Date.now() - view.lastUpdateTime.getTime() < 3 * this.persistMs;
  }

  /** Leaves a cancel request and waits for the holding instance to act on it on its next persist tick. */
  private async cancelOnOtherInstance(userId: string, uploadId: string): Promise<void> {
    await this.records.requestCancel(userId, uploadId);
    const deadline = Date.now() + 4 * this.persistMs;
    while (Date.now() < deadline) {
      await sleep(Math.min(100, this.persistMs / 4));
      const record = await this.records.findOwned(userId, uploadId);
      if (!record || isTerminal(record.status)) break;
    }
    await this.records.clearCancel(userId, uploadId);
  }
}
