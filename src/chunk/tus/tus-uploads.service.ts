import { HttpStatus, Inject, Injectable, OnModuleInit } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { Locker, Upload } from '@tus/utils';
import { ApiError } from '../../common/errors/api-error';
import { ErrorCode } from '../../common/errors/error-code';
import type { AppConfig } from '../../config';
import { TUS_LOCKER } from '../../coordination';
import { MediaRecord, MediaRecordsService } from '../../media';
import { LiveUpload, ProgressTracker, UploadCancelService } from '../../progress';
import { QuotaService } from '../../quota';
import { StorageDriver } from '../../storage';
import { EndStatus, UploadAbandoner, UploadFinaliser } from '../../upload-core';
import { storedBytes, TusFileStore, tusDataKey, TusStoreEvents } from './tus-file.store';
import { contentRefused, isContentRefusal, TusWriteRules, WriteRules } from './tus-write-rules';
import { TusKvStore } from './tus-kv.store';
import { parseTusMetadata } from './tus-metadata';
import { tusContext } from './tus-request-context';
import { UploadHashes } from './upload-hashes';

const gone = (message: string) => new ApiError(HttpStatus.GONE, 'UPLOAD_GONE', message);
const notFound = () => new ApiError(HttpStatus.NOT_FOUND, ErrorCode.NOT_FOUND, 'Upload not found');

/**
 * The rules of a tus upload around @tus/server: who may touch it, its MediaUpload and progress records, its
 * expiry, finishing it into `media/`, and discarding it (cancel, termination, expiry, rejected content). Every
 * change to one upload happens under that upload's tus lock, the same lock @tus/server takes for a request.
 */
@Injectable()
export class TusUploadsService implements TusStoreEvents, OnModuleInit {
  readonly store: TusFileStore;
  readonly maxSize: number;
  private readonly expiryMs: number;
  private readonly hashes = new UploadHashes();

  constructor(
    private readonly records: MediaRecordsService,
    private readonly tracker: ProgressTracker,
    private readonly cancels: UploadCancelService,
    private readonly storage: StorageDriver,
    kv: TusKvStore,
    config: ConfigService<AppConfig, true>,
    private readonly quota: QuotaService,
    private readonly rules: TusWriteRules,
    /** MemoryLocker, or the Redis locker shared by every instance when REDIS_URL is set. */
    @Inject(TUS_LOCKER) readonly locker: Locker,
    private readonly core: UploadFinaliser,
    private readonly abandoner: UploadAbandoner,
  ) {
    const uploads = config.get('uploads', { infer: true });
    this.maxSize = uploads.maxResumableBytes;
    this.expiryMs = uploads.expirySeconds * 1000;
    this.store = new TusFileStore({
      storage,
      kv,
      expiryMs: this.expiryMs,
      hashes: this.hashes,
      events: this,
    });
  }

  onModuleInit(): void {
    this.cancels.registerDiscarder('tus', (userId, uploadId, status, reason) =>
      this.discard(userId, uploadId, status, reason),
    );
  }

  /** Creation: validates the metadata (400), then opens the MediaUpload and progress records. */
  async create(userId: string, upload: Upload): Promise<{ record: MediaRecord; live: LiveUpload }> {
    const metadata = parseTusMetadata(upload.metadata);
    // A declared length counts against the quota from creation on (as the record's expectedSize).
    if (upload.size !== undefined) await this.quota.assertRoom(userId, upload.size);
    const record = await this.records.create({
      userId,
      uploadId: upload.id,
      source: 'tus',
      ...metadata,
      expectedSize: upload.size ?? null,
      expiresAt: this.nextExpiry(),
    });
    try {
      const live = await this.tracker.start({
        userId,
        uploadId: upload.id,
        source: 'tus',
        totalBytes: upload.size ?? null,
        canceller: (reason) => this.discard(userId, upload.id, 'cancelled', reason),
      });
      return { record, live };
    } catch (error) {
      await this.records.end(userId, upload.id, 'failed', 'Could not start the upload');
      throw error;
    }
  }

  /**
   * The caller's tus upload `id`, unfinished or (when `finishedToo`, for HEAD and PATCH) completed: 404 when missing
   * or another user's, 410 when it has ended otherwise.
   */
  async authorize(userId: string, id: string, finishedToo = false): Promise<MediaRecord> {
    const record = await this.records.findOwned(userId, id);
    if (!record || record.source !== 'tus') throw notFound();
    if (finishedToo && record.status === 'completed') return record;
    if (record.status !== 'uploading') throw gone(`The upload is ${record.status}`);
    if (record.expiresAt && record.expiresAt.getTime() <= Date.now()) throw gone('The upload has expired');
    return record;
  }

  /** The live progress a PATCH feeds; after a restart it resumes from the bytes on disk. */
  async track(userId: string, record: MediaRecord): Promise<LiveUpload> {
    const held = this.tracker.get(userId, record.uploadId);
    if (held && !held.ended) return held;
    return this.tracker.start({
      userId,
      uploadId: record.uploadId,
      source: 'tus',
      totalBytes: record.expectedSize ?? null,
      bytesUploaded: (await storedBytes(this.storage, record.uploadId)) ?? 0,
      canceller: (reason) => this.discard(userId, record.uploadId, 'cancelled', reason),
    });
  }

  /**
   * All bytes are in: the upload core finalises it (415 and the bytes deleted when the content is not allowed for
   * the declared category). Its tus info stays, so HEAD still answers the full offset after completion.
   */
  async finish(userId: string, upload: Upload): Promise<void> {
    await this.withLock(upload.id, async () => {
      const record = await this.records.findOwned(userId, upload.id);
      if (record?.status !== 'uploading') throw gone('The upload ended before it could be finished');
      const size = upload.offset;
      await this.core
        .finalise({
          userId,
          uploadId: upload.id,
          source: 'tus',
          category: record.fileType,
          stagedKey: tusDataKey(upload.id),
          size,
          sha256: this.hashes.take(upload.id, size),
          live: this.tracker.get(userId, upload.id) ?? (await this.track(userId, record)),
          refusal: contentRefused,
          abandon: { endOwn: () => this.store.discard(upload.id) },
        })
        .catch(async (error: unknown) => {
          // A refusal has ended the upload already (this is then a no-op); any other failure ends it here.
          await this.end(userId, upload.id, 'failed', 'The finished upload could not be stored').catch(
            () => {},
          );
          throw error;
        });
    });
  }

  /**
   * Discards an unfinished upload (cancel, expiry, a failed creation): waits for a running PATCH to stop, deletes
   * its bytes and info, and ends its records. Idempotent; a completed upload is left alone.
   */
  async discard(userId: string, id: string, status: EndStatus, reason: string): Promise<void> {
    await this.withLock(id, () => this.end(userId, id, status, reason));
  }

  // --- TusStoreEvents: called by the store inside a tus request, with the upload's lock held ---

  async written(id: string): Promise<void> {
    const context = tusContext();
    if (!context) return;
    const expiresAt = this.nextExpiry();
    await this.records.touch(context.userId, id, expiresAt);
    if (context.record) context.record.expiresAt = expiresAt;
  }

  async declaringLength(id: string, size: number): Promise<void> {
    const context = tusContext();
    if (context) await this.rules.assertLengthFits(context.userId, id, size);
  }

  async lengthDeclared(id: string, size: number): Promise<void> {
    const context = tusContext();
    if (!context) return;
    context.live?.setTotal(size);
    await this.records.touch(context.userId, id, this.nextExpiry(), { expectedSize: size });
  }

  async writeRules(id: string, offset: number): Promise<WriteRules> {
    const context = tusContext();
    if (!context?.record) return {};
    const { userId, record } = context;
    // PATCH reads the upload (its size is current); a creation-with-upload has only the record it just made.
    const size = context.upload ? context.upload.size : (record.expectedSize ?? undefined);
    return this.rules.forWrite({ userId, record, size, id, offset });
  }

  async refused(id: string, error: unknown): Promise<void> {
    const context = tusContext();
    if (context && isContentRefusal(error))
      await this.end(context.userId, id, 'failed', (error as Error).message);
  }

  async terminated(id: string): Promise<void> {
    const context = tusContext();
    // The stock removal has deleted the bytes and the info already.
    if (context) await this.end(context.userId, id, 'cancelled', 'Terminated by the client');
  }

  /** Deletes the bytes and info of an upload and ends its records (see UploadAbandoner); the caller holds the lock. */
  private async end(userId: string, id: string, status: EndStatus, reason: string): Promise<void> {
    await this.abandoner.abandon({
      userId,
      uploadId: id,
      source: 'tus',
      status,
      reason,
      // Its bytes, its info and its running hash.
      endOwn: () => this.store.discard(id),
    });
  }

  private async withLock<T>(id: string, fn: () => Promise<T>): Promise<T> {
    const lock = this.locker.newLock(id);
    // Whoever holds the lock is asked to let go; a PATCH being cancelled is already stopping.
    await lock.lock(new AbortController().signal, () => undefined);
    try {
      return await fn();
    } finally {
      await lock.unlock();
    }
  }

  private nextExpiry(): Date {
    return new Date(Date.now() + this.expiryMs);
  }
}
