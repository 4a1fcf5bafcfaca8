import { Injectable, Logger } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { pipeline } from 'node:stream/promises';
import type { MediaCategory, UploadSource } from '../common/uploads/upload-status';
// eslint-disable-next-line no-restricted-imports -- require cycle: media's barrel loads MediaModule, which imports upload-core
import { MediaRecord, MediaRecordsService } from '../media/media-records.service';
// eslint-disable-next-line no-restricted-imports -- require cycle: media's barrel loads MediaModule, which imports upload-core
import { isAllowedForCategory, SNIFF_BYTES, sniffMediaType, SniffedType } from '../media/mime-sniffer';
import { MediaContentRefusal, MediaMetadata, MediaProbe, ProcessingQueue } from '../processing';
import type { LiveUpload } from '../progress';
import { mediaKey, StorageDriver } from '../storage';
import { AbandonInput, UploadAbandoner } from './upload-abandoner';

/** A file that passed every check, before it is promoted. */
export interface CheckedFile {
  type: SniffedType;
  size: number;
  sha256: string;
  /** What the probe found in it (see MediaProbe). */
  metadata: MediaMetadata;
}

/** A finished upload: its completed record and where its bytes live now. */
export interface StoredUpload extends CheckedFile {
  record: MediaRecord;
  storageKey: string;
  fileName: string;
}

export interface FinaliseInput {
  userId: string;
  uploadId: string;
  source: UploadSource;
  /** The category the client declared; the sniffed type must be on its allow-list. */
  category: MediaCategory;
  /** Where the staged bytes are: `tmp/…`, `chunks/<user>/<upload>/data`, `tus/<id>`. */
  stagedKey: string;
  size: number;
  /** From the meter; when the protocol could not hash on the way (seed chunks), the core streams the object. */
  sha256?: string;
  live: LiveUpload;
  /**
   * The protocol's 415 (its body is part of that protocol's contract); `reason` says what the probe found wrong
   * with content of an allowed type (e.g. an MP4 with no video stream).
   */
  refusal: (category: MediaCategory, reason?: string) => Error;
  /** The protocol's own checks of the sniffed and hashed file (multipart: X-Content-SHA256); throws to refuse. */
  verify?: (file: Omit<CheckedFile, 'metadata'>) => void;
  /** The reason the records keep for a refusal; its message by default. */
  reasonOf?: (error: Error) => string;
  /** What a refusal deletes and ends besides the staged object and the core's records (see AbandonInput). */
  abandon?: Pick<AbandonInput, 'keys' | 'prefixes' | 'endOwn'>;
  /** Writes the protocol's own record of the finished upload (the seed session), before progress ends. */
  stored?: (upload: StoredUpload) => Promise<void>;
  /** Stops finalising before the record completes (a request that failed or was cancelled meanwhile). */
  signal?: AbortSignal;
}

/**
 * The one way a fully received upload becomes media, whatever its protocol: sniff its head, check the declared
 * category's allow-list (and the protocol's own checks), hash it if the protocol could not, probe what its streams
 * hold, promote it to `media/<user>/<upload>.<ext>`, complete the MediaUpload record with its metadata, finish
 * live progress, and queue its processing (thumbnails, poster, rendition).
 *
 * A refused file ends everything `failed` (the bytes deleted, see UploadAbandoner) and throws the protocol's
 * error. Any other failure puts the staged object back where it was and throws: the protocol decides whether the
 * upload can be finalised again (seed: the last chunk resent) or is abandoned (tus, multipart).
 */
@Injectable()
export class UploadFinaliser {
  private readonly logger = new Logger(UploadFinaliser.name);

  constructor(
    private readonly storage: StorageDriver,
    private readonly records: MediaRecordsService,
    private readonly abandoner: UploadAbandoner,
    private readonly probe: MediaProbe,
    private readonly processing: ProcessingQueue,
  ) {}

  async finalise(input: FinaliseInput): Promise<StoredUpload> {
    const { userId, uploadId, stagedKey, size, live, signal } = input;
    signal?.throwIfAborted();
    const file = await this.check(input);
    signal?.throwIfAborted();
    const storageKey = mediaKey(userId, uploadId, file.type.ext);
    const fileName = `${uploadId}.${file.type.ext}`;
    // A file staged at its final key (see StorageDriver.promoteCopies) stays where it is.
    const promoted = stagedKey !== storageKey;
    if (promoted) await this.storage.promote(stagedKey, storageKey);
    let record: MediaRecord;
    try {
      signal?.throwIfAborted();
      record = await this.records.complete(userId, uploadId, {
        fileName,
        mimeType: file.type.mime,
        fileSize: size,
        storageKey,
        checksumSha256: file.sha256,
        metadata: file.metadata,
      });
    } catch (error) {
      if (promoted) await this.undoPromote(storageKey, stagedKey);
      throw error;
    }
    const stored: StoredUpload = { ...file, record, storageKey, fileName };
    await input.stored?.(stored);
    live.setTotal(size);
    live.setBytes(size);
    // The file is stored and its record complete: a lost progress write must not fail the upload.
    await live
      .finish('completed')
      .catch((error: Error) => this.logger.warn(`progress of ${uploadId} not ended: ${error.message}`));
    // Queued after the record completes, so a worker always finds it; a lost job is found again (pending).
    await this.processing
      .enqueue({ userId, uploadId })
      .catch((error: Error) => this.logger.warn(`processing of ${uploadId} not queued: ${error.message}`));
    return stored;
  }

  /**
   * Sniffs, applies the allow-list, hashes, runs the protocol's checks and probes the streams; a refusal abandons
   * the upload.
   */
  private async check(input: FinaliseInput): Promise<CheckedFile> {
    const { category, stagedKey, size } = input;
    const type = await sniffMediaType(await this.storage.readHead(stagedKey, SNIFF_BYTES));
    if (!type || !isAllowedForCategory(category, type)) return this.refuse(input, input.refusal(category));
    const file = { type, size, sha256: input.sha256 ?? (await this.sha256(stagedKey)) };
    try {
      input.verify?.(file);
    } catch (error) {
      return this.refuse(input, error as Error);
    }
    input.signal?.throwIfAborted();
    try {
      const metadata = await this.probe.probe({ key: stagedKey, mimeType: type.mime, kind: type.kind });
      return { ...file, metadata };
    } catch (error) {
      if (!(error instanceof MediaContentRefusal)) throw error;
      return this.refuse(input, input.refusal(category, error.message));
    }
  }

  /** Ends a refused upload `failed`, its bytes deleted, and throws the protocol's error. */
  private async refuse(input: FinaliseInput, refusal: Error): Promise<never> {
    await this.abandoner
      .abandon({
        userId: input.userId,
        uploadId: input.uploadId,
        source: input.source,
        status: 'failed',
        reason: input.reasonOf ? input.reasonOf(refusal) : refusal.message,
        keys: [input.stagedKey, ...(input.abandon?.keys ?? [])],
        prefixes: input.abandon?.prefixes,
        endOwn: input.abandon?.endOwn,
        live: input.live,
      })
      .catch(() => undefined); // logged by the abandoner; the client gets the refusal
    throw refusal;
  }

  private async sha256(key: string): Promise<string> {
    const hash = createHash('sha256');
    await pipeline(this.storage.openRead(key), hash);
    return hash.digest('hex');
  }

  /** Puts a promoted object back; when even that fails it goes, so no file is left without a complete record. */
  private async undoPromote(storageKey: string, stagedKey: string): Promise<void> {
    try {
      await this.storage.move(storageKey, stagedKey);
    } catch (error) {
      this.logger.error(`could not move ${storageKey} back: ${(error as Error).message}`);
      await this.storage.remove(storageKey).catch(() => undefined);
    }
  }
}
