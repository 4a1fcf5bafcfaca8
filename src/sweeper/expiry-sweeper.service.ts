import { Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { SchedulerRegistry } from '@nestjs/schedule';
import type { AppConfig } from '../config';
import { MediaRecord, MediaRecordsService } from '../media';
import { ProgressTracker, UploadCancelService } from '../progress';
import { StorageDriver } from '../storage';

/** What one sweep did. */
export interface SweepReport {
  /** Uploads ended as `expired`, their bytes deleted. */
  expired: number;
  /** Past their expiry but still streaming on this instance. */
  skipped: number;
  /** Their source's cleanup threw; retried on the next sweep. */
  failed: number;
  /** Files in tmp/ no upload could still be writing. */
  strayFiles: number;
  /** Unfinished writes (S3: multipart uploads) left in tmp/, chunks/, tus/ or media/ by a crash, aborted. */
  abortedWrites: number;
}

const INTERVAL_NAME = 'upload-expiry-sweep';
/** Records fetched per query, so a backlog never loads at once. */
const BATCH = 100;
/** Upper bound of queries per sweep; the next sweep picks up the rest. */
const MAX_BATCHES = 50;
/**
 * The areas where uploads stage bytes. media/ holds finished objects, and on S3 also the multipart upload of a
 * single-request upload streaming straight to its final key (StorageDriver.promoteCopies).
 */
const STAGING_AREAS = ['tmp', 'chunks', 'tus', 'ietf', 'media'] as const;

/**
 * Expires abandoned uploads of every kind (single request, seed chunks, tus) once they have had no activity for
 * UPLOAD_EXPIRY: their source module deletes the bytes, and the MediaUpload and progress records say `expired`.
 * Runs every SWEEP_INTERVAL seconds; runs never overlap.
 */
@Injectable()
export class ExpirySweeper implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(ExpirySweeper.name);
  private readonly expiryMs: number;
  private readonly intervalMs: number;
  private running?: Promise<SweepReport>;

  constructor(
    private readonly records: MediaRecordsService,
    private readonly tracker: ProgressTracker,
    private readonly cancels: UploadCancelService,
    private readonly storage: StorageDriver,
    private readonly scheduler: SchedulerRegistry,
    config: ConfigService<AppConfig, true>,
  ) {
    const uploads = config.get('uploads', { infer: true });
    this.expiryMs = uploads.expirySeconds * 1000;
    this.intervalMs = uploads.sweepIntervalSeconds * 1000;
  }

  onApplicationBootstrap(): void {
    const timer = setInterval(() => void this.tick(), this.intervalMs);
    timer.unref(); // a pending sweep never keeps the process alive
    this.scheduler.addInterval(INTERVAL_NAME, timer);
  }

  async onModuleDestroy(): Promise<void> {
    if (this.scheduler.doesExist('interval', INTERVAL_NAME)) this.scheduler.deleteInterval(INTERVAL_NAME);
    await this.running?.catch(() => undefined); // let a running sweep finish before the database closes
  }

  /** One sweep as of `now` (tests pass a date in the future); waits for a sweep already running. */
  async sweep(now = new Date()): Promise<SweepReport> {
    while (this.running) await this.running.catch(() => undefined);
    this.running = this.run(now).finally(() => (this.running = undefined));
    return this.running;
  }

  private async tick(): Promise<void> {
    if (this.running) return; // the previous sweep is still going: skip this turn
    await this.sweep().catch((error: Error) => this.logger.error(`expiry sweep failed: ${error.message}`));
  }

  private async run(now: Date): Promise<SweepReport> {
    const report: SweepReport = { expired: 0, skipped: 0, failed: 0, strayFiles: 0, abortedWrites: 0 };
    // Skipped and failed uploads stay `uploading` and come back in the next query; `seen` moves past them.
    const seen = new Set<string>();
    for (let round = 0; round < MAX_BATCHES; round++) {
      const found = await this.records.findExpired(now, BATCH + seen.size);
      const batch = found.filter((record) => !seen.has(String(record._id)));
      if (batch.length === 0) break;
      for (const record of batch) {
        seen.add(String(record._id));
        report[await this.expire(record, now)]++;
      }
    }
    report.strayFiles = await this.removeStrayFiles(now);
    report.abortedWrites = await this.abortStaleWrites(now);
    if (report.expired + report.failed + report.strayFiles + report.abortedWrites > 0) {
      this.logger.log(`expiry sweep: ${JSON.stringify(report)}`);
    }
    return report;
  }

  private async expire(record: MediaRecord, now: Date): Promise<'expired' | 'skipped' | 'failed'> {
    const userId = String(record.userId);
    const live = this.tracker.get(userId, record.uploadId);
    if (live && !live.ended && now.getTime() - live.view().lastUpdateTime.getTime() < this.expiryMs) {
      return 'skipped';
    }
    try {
      const reason = `No activity for ${describeSeconds(this.expiryMs / 1000)}`;
      await this.cancels.discard(userId, record.uploadId, record.source, 'expired', reason);
      // A source without a discarder would leave its record `uploading` forever, found again by every sweep.
      const after = await this.records.findOwned(userId, record.uploadId);
      if (after?.status === 'uploading') {
        this.logger.warn(
          `no ${record.source} discarder ended upload ${record.uploadId}; expiring the record`,
        );
        await this.records.end(userId, record.uploadId, 'expired', reason);
      }
      return 'expired';
    } catch (error) {
      this.logger.error(`could not expire upload ${record.uploadId}: ${(error as Error).message}`);
      return 'failed';
    }
  }

  /**
   * Defensive: a file in tmp/ untouched for UPLOAD_EXPIRY belongs to no running upload (a running one writes to
   * it), and its record, if any, has expired by now. Such files are left by a crash between write and cleanup.
   */
  private async removeStrayFiles(now: Date): Promise<number> {
    const cutoff = this.staleBefore(now).getTime();
    const objects = await this.storage.list('tmp');
    const stale = objects.filter((object) => object.modifiedAt.getTime() < cutoff);
    await Promise.all(stale.map((object) => this.storage.remove(object.key)));
    return stale.length;
  }

  /**
   * Defensive too, by the same bound: a write started before it and never finished was left by a crash (S3: an
   * incomplete multipart upload, billed until aborted; local: nothing, its partial file is a stray file). S3 dates
   * a multipart upload by its start, not its last part (see docs/operations.md, "Failures").
   */
  private async abortStaleWrites(now: Date): Promise<number> {
    const olderThan = this.staleBefore(now);
    let aborted = 0;
    for (const area of STAGING_AREAS) {
      aborted += await this.storage.abortIncompleteWrites(area, olderThan);
    }
    return aborted;
  }

  /** Anything of an upload untouched since this instant belongs to no running upload. */
  private staleBefore(now: Date): Date {
    return new Date(now.getTime() - this.expiryMs);
  }
}

/** "24 h", "30 min" or "45 s". */
function describeSeconds(seconds: number): string {
  if (seconds % 3600 === 0) return `${seconds / 3600} h`;
  if (seconds % 60 === 0) return `${seconds / 60} min`;
  return `${seconds} s`;
}
