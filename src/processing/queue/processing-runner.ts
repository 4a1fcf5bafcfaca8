import { Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { AppConfig } from '../../config';
import { MediaRecordsService } from '../../media';
import { ProcessingProgressService } from '../../progress';
import { derivedPrefix, StorageDriver } from '../../storage';
import { MediaDeriver } from '../derive/media-deriver';
import { WorkFolder } from '../derive/work-folder';
import type { DerivedFiles, ProcessingJob, ProcessingState } from '../processing-state';

/**
 * What one attempt came to, for the queue: `retry` = failed with attempts left (run it again after a backoff);
 * `interrupted` = stopped by shutdown, not counted (its record is `pending` again for the next start); `skipped` =
 * nothing to do (the media is gone, not completed, or already processed).
 */
export type RunOutcome = 'done' | 'retry' | 'failed' | 'interrupted' | 'skipped';

/** Longest error kept on the record and shown to clients. */
const MAX_ERROR_LENGTH = 300;

/**
 * Runs one attempt of a processing job: marks the record `running`, has the deriver make the derived files within
 * PROCESSING_JOB_TIMEOUT, and records the result (`done` with the files; `pending` with the error while attempts
 * remain; `failed` after the last). The media record is the truth (its `attempts` counts every attempt started, a
 * crashed one included); each change is also reported to live progress. Never throws for a job's failure.
 */
@Injectable()
export class ProcessingRunner implements OnApplicationBootstrap {
  private readonly logger = new Logger(ProcessingRunner.name);
  private readonly settings: AppConfig['processing'];

  constructor(
    private readonly records: MediaRecordsService,
    private readonly storage: StorageDriver,
    private readonly deriver: MediaDeriver,
    private readonly progress: ProcessingProgressService,
    config: ConfigService<AppConfig, true>,
  ) {
    this.settings = config.get('processing', { infer: true });
  }

  /** The scratch folders of jobs a crash interrupted on this machine (the jobs themselves are queued again). */
  async onApplicationBootstrap(): Promise<void> {
    const removed = await WorkFolder.removeStale(2 * this.settings.jobTimeoutMs);
    if (removed > 0) this.logger.log(`removed ${removed} work folder(s) left by interrupted jobs`);
  }

  /** `shutdown` aborts the attempt when this instance stops (its tools are killed through the same signal). */
  async run(job: ProcessingJob, shutdown: AbortSignal): Promise<RunOutcome> {
    const record = await this.records.findOwned(job.userId, job.uploadId);
    const previous = record?.processing;
    if (!record || record.status !== 'completed' || !record.storageKey || !record.mimeType) return 'skipped';
    if (previous?.status === 'done' || previous?.status === 'failed') return 'skipped';
    const attempts = (previous?.attempts ?? 0) + 1;
    if (!(await this.record(job, { status: 'running', attempts, error: previous?.error }))) return 'skipped';

    const limit = new AbortController();
    const timer = setTimeout(() => limit.abort(new Error('job time limit')), this.settings.jobTimeoutMs);
    try {
      const derived = await this.deriver.derive(
        {
          userId: job.userId,
          uploadId: job.uploadId,
          storageKey: record.storageKey,
          mimeType: record.mimeType,
          kind: record.mimeType.startsWith('video/') ? 'video' : 'photo',
          metadata: record.metadata,
        },
        AbortSignal.any([shutdown, limit.signal]),
      );
      if (await this.record(job, { status: 'done', attempts }, derived)) return 'done';
      // Deleted while it ran: what was made belongs to nobody.
      await this.removeDerived(job);
      return 'skipped';
    } catch (error) {
      if (shutdown.aborted) {
        await this.record(job, { status: 'pending', attempts: attempts - 1, error: previous?.error });
        return 'interrupted';
      }
      const reason = limit.signal.aborted
        ? `processing did not finish within ${Math.round(this.settings.jobTimeoutMs / 1000)} s`
        : clientError(error);
      const last = attempts >= this.settings.attempts;
      this.logger.warn(
        `processing of ${job.uploadId} failed (attempt ${attempts}): ${(error as Error).message}`,
      );
      if (!(await this.record(job, { status: last ? 'failed' : 'pending', attempts, error: reason })))
        await this.removeDerived(job);
      return last ? 'failed' : 'retry';
    } finally {
      clearTimeout(timer);
    }
  }

  /** Stores the state on the media record and reports it to progress; false when the record is gone. */
  /** Puts a completed upload's processing back to its start (see ProcessingQueue.restart). */
  async reset(job: ProcessingJob): Promise<void> {
    await this.record(job, { status: 'pending', attempts: 0 });
  }

  private async record(
    job: ProcessingJob,
    state: Omit<ProcessingState, 'updatedAt'>,
    derived?: DerivedFiles,
  ): Promise<boolean> {
    const processing: ProcessingState = { ...state, updatedAt: new Date() };
    if (processing.error === undefined) delete processing.error;
    const exists = await this.records.setProcessing(job.userId, job.uploadId, processing, derived);
    if (exists) {
      const { status, error } = processing;
      await this.progress.report(
        job.userId,
        job.uploadId,
        error === undefined ? { status } : { status, error },
      );
    }
    return exists;
  }

  private async removeDerived(job: ProcessingJob): Promise<void> {
    await this.storage
      .removePrefix(derivedPrefix(job.userId, job.uploadId))
      .catch((error: Error) => this.logger.warn(`derived files of ${job.uploadId} left: ${error.message}`));
  }
}

/**
 * The first line of an error, bounded, as a client may see it on the record: a tool's message can name the
 * original's place (a presigned S3 URL, a path under UPLOAD_DIR) or a temp folder, so URLs and folders are cut.
 */
export function clientError(error: unknown): string {
  const message = (error instanceof Error ? error.message : String(error))
    .split('\n')[0]
    .replace(/\b[a-z][a-z0-9+.-]*:\/\/[^\s'"]*[^\s'":,.]/gi, '<input>')
    .replace(/(?:\/[^\s/'":]+)+\/([^\s/'":]+)/g, '$1')
    .trim();
  return message.length > MAX_ERROR_LENGTH
    ? `${message.slice(0, MAX_ERROR_LENGTH - 1)}…`
    : message || 'failed';
}
