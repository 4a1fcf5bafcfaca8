import { HttpStatus, Inject, Injectable, OnModuleInit } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { Locker, Upload } from '@tus/utils';
import { ApiError } from '../../common/errors/api-error';
import { ErrorCode } from '../../common/errors/error-code';
import type { AppConfig } from '../../config';
import { TUS_LOCKER } from '../../coordination';
import { MediaRecord, MediaRecordsService } from '../../media';
import { LiveUpload, UploadCancelService } from '../../progress';
import { StorageDriver } from '../../storage';
import { ClaimLease, ClaimProgress, EndStatus, Held, UploadClaim, UploadClaims } from '../../upload-core';
import { storedBytes, TusFileStore, tusDataKey, TusStoreEvents } from './tus-file.store';
import { contentRefused, isContentRefusal, TusWriteRules, WriteRules } from './tus-write-rules';
import { TusKvStore } from './tus-kv.store';
import { parseTusMetadata } from './tus-metadata';
import { tusContext } from './tus-request-context';
import { UploadHashes } from '../../upload-core';

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
    private readonly cancels: UploadCancelService,
    private readonly storage: StorageDriver,
    kv: TusKvStore,
    config: ConfigService<AppConfig, true>,
    private readonly rules: TusWriteRules,
    /** MemoryLocker, or the Redis locker shared by every instance when REDIS_URL is set. */
    @Inject(TUS_LOCKER) readonly locker: Locker,
    private readonly claims: UploadClaims,
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

  /**
   * Creation: validates the metadata (400), then opens the MediaUpload and progress records. A `partial` upload
   * (tus concatenation) is a slice of a file, stored but never finished into media on its own.
   */
  async create(
    userId: string,
    upload: Upload,
    partial = false,
  ): Promise<{ record: MediaRecord; live: LiveUpload }> {
    const metadata = parseTusMetadata(upload.metadata);
    const claim = await this.claims.claim({
      userId,
      uploadId: upload.id,
      source: 'tus',
      // A declared length counts against the quota from creation on (as the record's expectedSize).
      quota: upload.size === undefined ? undefined : { assertRoom: upload.size },
      record: {
        create: {
          ...metadata,
          expectedSize: upload.size ?? null,
          expiresAt: this.nextExpiry(),
          ...(partial ? { concat: 'partial' as const } : {}),
        },
      },
      progress: this.progressOf(userId, upload.id, upload.size ?? null),
    });
    // Nothing is held between requests: each PATCH runs under @tus/server's lock of the upload.
    await claim.release();
    return { record: claim.record, live: claim.live };
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

  /** The live progress a PATCH feeds (its lock held by @tus/server); after a restart it resumes from the stored bytes. */
  async track(userId: string, record: MediaRecord): Promise<LiveUpload> {
    const { uploadId } = record;
    const progress = this.progressOf(userId, uploadId, record.expectedSize ?? null);
    return (await this.claims.claim({ userId, uploadId, source: 'tus', progress })).live;
  }

  /**
   * An upload whose bytes are all stored but which was never finished (the instance serving its last PATCH died in
   * between) is finished now, before HEAD answers its full offset: a client told "all bytes are here" would not send
   * anything again, and the upload would expire. Returns the record as it is afterwards.
   */
  async finishIfStored(userId: string, record: MediaRecord): Promise<MediaRecord> {
    const size = record.expectedSize;
    // A partial upload is never finished on its own; its final upload seals it again (see TusConcatService).
    if (record.concat === 'partial') return record;
    if (size == null || (await storedBytes(this.storage, record.uploadId)) !== size) return record;
    const upload = await this.store.getUpload(record.uploadId);
    if (upload.size !== size || upload.offset !== size) return record;
    // Another request finishing it at the same moment wins; this one then reads what it did.
    await this.finish(userId, upload).catch((error: unknown) => {
      if (!(error instanceof ApiError && (error.getStatus() as HttpStatus) === HttpStatus.GONE)) throw error;
    });
    return (await this.records.findOwned(userId, record.uploadId)) ?? record;
  }

  /**
   * All bytes are in: the upload core finalises it (415 and the bytes deleted when the content is not allowed for
   * the declared category). Its tus info stays, so HEAD still answers the full offset after completion.
   */
  async finish(userId: string, upload: Upload): Promise<void> {
    const claim = await this.claims.claim({
      userId,
      uploadId: upload.id,
      source: 'tus',
      lease: this.lease(upload.id),
      record: {
        load: (record) => {
          if (record?.status !== 'uploading') throw gone('The upload ended before it could be finished');
          return record;
        },
      },
      progress: (record) => this.progressOf(userId, upload.id, record?.expectedSize ?? null),
    });
    const size = upload.offset;
    if (claim.record.concat === 'partial') return this.sealPartial(claim, size);
    const discardOwn = () => this.store.discard(upload.id);
    try {
      // The bytes become one readable object (S3: the multipart upload completes) before they are checked.
      await this.store.seal(upload.id, size);
      await claim.finalise({
        category: claim.record.fileType,
        stagedKey: tusDataKey(upload.id),
        size,
        sha256: this.hashes.take(upload.id, size),
        refusal: contentRefused,
        abandon: { endOwn: discardOwn },
      });
    } catch (error) {
      // A refusal has ended the upload already (this is then a no-op); any other failure ends it here.
      const reason = 'The finished upload could not be stored';
      await claim.abandon({ status: 'failed', reason, endOwn: discardOwn }).catch(() => {});
      throw error;
    } finally {
      await claim.release();
    }
    await this.store.removeLeftovers(upload.id);
  }

  /**
   * Discards an unfinished upload (cancel, expiry, a failed creation): waits for a running PATCH to stop, deletes
   * its bytes and info, and ends its records. Idempotent; a completed upload is left alone.
   */
  async discard(userId: string, id: string, status: EndStatus, reason: string): Promise<void> {
    await this.end(userId, id, status, reason, this.lease(id));
  }

  /** `discard` for a caller that holds the upload's tus lock already (see lease). */
  async discardLocked(userId: string, id: string, status: EndStatus, reason: string): Promise<void> {
    await this.end(userId, id, status, reason);
  }

  /**
   * A partial upload whose last byte arrived: its bytes become one readable object for its final upload to copy,
   * and its own progress ends (it is complete as a slice). It stays `uploading` until a final upload consumes it.
   */
  private async sealPartial(claim: UploadClaim, size: number): Promise<void> {
    try {
      await this.store.seal(claim.uploadId, size);
      claim.live.setBytes(size);
      await claim.live.finish('completed');
    } finally {
      await claim.release();
    }
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

  /**
   * Deletes the bytes and info of an upload and ends its records (see UploadAbandoner), under `lease` or, without
   * one, under the lock the calling tus request holds.
   */
  private async end(userId: string, id: string, status: EndStatus, reason: string, lease?: ClaimLease) {
    const claim = await this.claims.claim({ userId, uploadId: id, source: 'tus', lease });
    // Its bytes, its info and its running hash.
    await claim.abandon({ status, reason, endOwn: () => this.store.discard(id) });
  }

  /** The upload's tus lock, the one @tus/server takes for a request: its holder is asked to let go. */
  lease(id: string): { take: () => Promise<Held> } {
    return {
      take: async (): Promise<Held> => {
        const lock = this.locker.newLock(id);
        // A PATCH being cancelled is already stopping; any other holder finishes its request first.
        await lock.lock(new AbortController().signal, () => undefined);
        return { release: () => lock.unlock() };
      },
    };
  }

  progressOf(userId: string, uploadId: string, totalBytes: number | null): ClaimProgress {
    return {
      totalBytes,
      bytesUploaded: async () => (await storedBytes(this.storage, uploadId)) ?? 0,
      canceller: (reason) => this.discard(userId, uploadId, 'cancelled', reason),
    };
  }

  nextExpiry(): Date {
    return new Date(Date.now() + this.expiryMs);
  }
}
