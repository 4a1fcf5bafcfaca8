import { Injectable, Logger } from '@nestjs/common';
import { withDatabaseRetry } from '../common/errors/database-errors';
import type { UploadSource } from '../common/uploads/upload-status';
// eslint-disable-next-line no-restricted-imports -- require cycle: media's barrel loads MediaModule, which imports upload-core
import { MediaRecordsService } from '../media/media-records.service';
import { ProgressTracker, UploadProgressService, type LiveUpload } from '../progress';
import { StorageDriver } from '../storage';

/** How an unfinished upload ends. */
export type EndStatus = 'failed' | 'cancelled' | 'expired';

export interface AbandonInput {
  userId: string;
  uploadId: string;
  /** Only a record of this protocol is ended (a tus id never ends a multipart upload). */
  source: UploadSource;
  status: EndStatus;
  /** What the records keep and progress shows as the reason. */
  reason: string;
  /** Objects to delete: the staged bytes (tmp/…, tus/<id>), a promoted object. */
  keys?: string[];
  /** Prefixes deleted with everything under them (a seed session's chunks/<user>/<upload>). */
  prefixes?: string[];
  /** Bad input: the records are removed instead of ended, so nothing is left and the id may be used again. */
  removeRecords?: boolean;
  /** The upload's live progress; by default the one this instance holds, if any. */
  live?: LiveUpload;
  /** The quota the upload held, released at the end. */
  quota?: { release(): void };
  /** Ends what only the protocol keeps (the seed session record, the tus info); runs first. */
  endOwn?: (status: EndStatus, reason: string) => Promise<void>;
}

/**
 * The one way an unfinished upload ends, whatever its protocol: its own state, then its bytes, then its
 * MediaUpload record (ended with status and reason, or removed for bad input), then its progress, then its quota.
 * Every step runs even when one before it failed (a lost cleanup write would leave a record `uploading` for good);
 * the first failure is thrown at the end, after each was logged. Safe to run twice: a completed upload is left
 * alone, and a record that already ended keeps its first status and reason.
 */
@Injectable()
export class UploadAbandoner {
  private readonly logger = new Logger(UploadAbandoner.name);

  constructor(
    private readonly storage: StorageDriver,
    private readonly records: MediaRecordsService,
    private readonly tracker: ProgressTracker,
    private readonly progress: UploadProgressService,
  ) {}

  async abandon(input: AbandonInput): Promise<void> {
    const { userId, uploadId, status, reason } = input;
    const failures: unknown[] = [];
    const step = async (what: string, run: () => Promise<unknown>) => {
      try {
        await run();
      } catch (error) {
        failures.push(error);
        this.logger.warn(`abandoning upload ${uploadId}: ${what} failed: ${(error as Error).message}`);
      }
    };
    // undefined: the read failed, so every step is tried (each write is harmless on an ended record).
    const found = await withDatabaseRetry(() => this.records.findOwned(userId, uploadId)).catch(
      (error: unknown) => {
        failures.push(error);
        this.logger.warn(
          `abandoning upload ${uploadId}: reading its record failed: ${(error as Error).message}`,
        );
        return undefined;
      },
    );
    if (found && (found.source !== input.source || found.status === 'completed')) {
      input.quota?.release();
      return;
    }
    const endOwn = input.endOwn;
    if (endOwn) await step('ending its protocol state', () => endOwn(status, reason));
    await step('deleting its bytes', () =>
      Promise.all([
        ...(input.keys ?? []).map((key) => this.storage.remove(key)),
        ...(input.prefixes ?? []).map((prefix) => this.storage.removePrefix(prefix)),
      ]),
    );
    // A missing record has nothing to end; one that ended before keeps its status, and its progress ended with it.
    const open = !found || found.status === 'uploading';
    // Under load FerretDB/SQLite refuses some writes (SQLITE_BUSY): these are retried.
    if (input.removeRecords) {
      await step('removing its record', () => withDatabaseRetry(() => this.records.remove(userId, uploadId)));
    } else if (open && found !== null) {
      await step('ending its record', () =>
        withDatabaseRetry(() => this.records.end(userId, uploadId, status, reason)),
      );
    }
    const live = input.live ?? this.tracker.get(userId, uploadId);
    if (open && live) {
      await step('ending its progress', () => live.finish(status, reason));
    } else if (open && !input.removeRecords) {
      await step('ending its progress', () =>
        withDatabaseRetry(() => this.progress.end(userId, uploadId, status, reason)),
      );
    }
    if (input.removeRecords) {
      await step('removing its progress', () =>
        withDatabaseRetry(() => this.progress.remove(userId, uploadId)),
      );
    }
    input.quota?.release();
    if (failures.length > 0) throw failures[0];
  }
}
