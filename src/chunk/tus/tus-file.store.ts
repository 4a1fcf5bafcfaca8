import { Logger } from '@nestjs/common';
import { DataStore, Upload } from '@tus/utils';
import type { Readable } from 'node:stream';
import { StorageDriver, storageKey } from '../../storage';
import { checksumMismatch, ChunkChecksum } from './tus-checksum';
import { TusKvStore } from './tus-kv.store';
import { tusContext } from './tus-request-context';
import { pipeRequestBody, UploadHashes, UploadMeter } from '../../upload-core';
import type { WriteRules } from './tus-write-rules';

/** The storage key of a tus upload's bytes. */
export function tusDataKey(id: string): string {
  return storageKey('tus', id);
}

/** Bytes stored for a tus upload so far (its assembly's length); undefined when there are none to read. */
export async function storedBytes(storage: StorageDriver, id: string): Promise<number | undefined> {
  return storage
    .assembly(tusDataKey(id))
    .length()
    .catch(() => undefined);
}

/** What the tus service does when the store changes an upload (all called with the upload's tus lock held). */
export interface TusStoreEvents {
  /** Bytes were stored: the upload had activity. */
  written(id: string, offset: number): Promise<void>;
  /** A deferred length is about to be declared (throw to refuse it, e.g. over the quota). */
  declaringLength(id: string, size: number): Promise<void>;
  /** A deferred length was declared. */
  lengthDeclared(id: string, size: number): Promise<void>;
  /** The client terminated the upload (tus termination, DELETE). */
  terminated(id: string): Promise<void>;
  /** What the bytes of a write starting at `offset` must pass on their way to disk. */
  writeRules(id: string, offset: number): Promise<WriteRules>;
  /** A write was refused by its rules (its bytes are already cut off the file again). */
  refused(id: string, error: unknown): Promise<void>;
}

export interface TusFileStoreOptions {
  storage: StorageDriver;
  kv: TusKvStore;
  expiryMs: number;
  hashes: UploadHashes;
  events: TusStoreEvents;
}

/**
 * The storage driver's tus DataStore (bytes under `tus/<id>`; upload info in MongoDB), plus what the stock store
 * lacks: the checksum extension (a chunk whose Upload-Checksum fails is cut off the file again, so the offset is
 * unchanged), live progress, cancel, and an expiry that slides with activity.
 */
export class TusFileStore extends DataStore {
  private readonly logger = new Logger(TusFileStore.name);
  /** The driver's store, which this one wraps; it alone knows where the bytes are. */
  private readonly base: DataStore;
  private readonly storage: StorageDriver;
  private readonly kv: TusKvStore;
  private readonly hashes: UploadHashes;
  private readonly events: TusStoreEvents;

  constructor(options: TusFileStoreOptions) {
    super();
    this.base = options.storage.tusDataStore({ configstore: options.kv, expiryMs: options.expiryMs });
    this.storage = options.storage;
    this.kv = options.kv;
    this.hashes = options.hashes;
    this.events = options.events;
    this.extensions = [...this.base.extensions, 'checksum', 'concatenation'];
  }

  /**
   * @tus/server 2 refuses every `Upload-Concat` creation unless the store has the misspelt "concatentation": partial
   * creations are plain uploads to it, and final ones never reach it (TusConcatService serves them).
   */
  override hasExtension(extension: string): boolean {
    return extension === 'concatentation' || super.hasExtension(extension);
  }

  override create(upload: Upload): Promise<Upload> {
    return this.base.create(upload);
  }

  override getExpiration(): number {
    return this.base.getExpiration();
  }

  override deleteExpired(): Promise<number> {
    return this.base.deleteExpired();
  }

  /**
   * @tus/server derives `Upload-Expires` and its 410 answers from `creation_date`; our uploads expire
   * UPLOAD_EXPIRY after their last activity (MediaUpload.expiresAt), so the last activity is reported instead.
   */
  override async getUpload(id: string): Promise<Upload> {
    const context = tusContext();
    // PostHandler reads the upload again after finishing it (for Upload-Expires); by then it lives in media/.
    if (context?.finished?.id === id) return context.finished;
    // A finished upload answers HEAD with its full offset (tus 1.0: a client whose last response was lost asks
    // again); its bytes live in media/ now, its tus info only keeps the metadata.
    if (context?.record?.status === 'completed') {
      const size = context.record.fileSize ?? 0;
      return new Upload({ id, size, offset: size, metadata: (await this.kv.get(id))?.metadata });
    }
    const upload = await this.base.getUpload(id);
    const expiresAt = context?.record?.expiresAt;
    if (expiresAt) upload.creation_date = new Date(expiresAt.getTime() - this.getExpiration()).toISOString();
    if (context) context.upload = upload;
    return upload;
  }

  /** @tus/server 2 hands over the body as a stream.Readable (its size limiter over the request's bytes). */
  override async write(readable: Readable, id: string, offset: number): Promise<number> {
    const context = tusContext();
    const checksum = ChunkChecksum.fromHeader(context?.req.headers['upload-checksum']);
    const rules = await this.events.writeRules(id, offset);
    const fileHash = this.hashes.resume(id, offset);
    context?.live?.setBytes(offset);
    const meter = new UploadMeter({
      progress: context?.live,
      sinks: [fileHash?.hash, checksum].filter((sink) => sink !== undefined),
      ownHash: false,
      budget: rules.quota,
      head: rules.head,
    });

    let newOffset: number;
    try {
      // The stock FileStore.write reports every failure as a 500 FILE_WRITE_ERROR; writing through the storage
      // driver keeps the cause, so a full disk answers 507 like the other upload routes.
      // Piped, not pipelined (see pipeRequestBody): a failed write must not destroy the body, or @tus/server would
      // answer at once, before this store has cut the refused bytes off and ended the upload.
      await pipeRequestBody(readable, meter, this.storage.assembly(tusDataKey(id)).openWriteAt(offset));
      newOffset = offset + meter.bytes;
    } catch (error) {
      await this.afterFailedWrite(id, offset, checksum !== undefined || meter.refusal !== undefined);
      if (meter.refusal !== undefined) {
        await this.events.refused(id, meter.refusal);
        throw meter.refusal;
      }
      throw context?.live?.signal.aborted ? context.live.signal.reason : error;
    } finally {
      rules.quota?.release();
    }
    if (checksum && !checksum.matches()) {
      await this.storage.assembly(tusDataKey(id)).truncate(offset);
      if (fileHash) this.hashes.rollback(id, fileHash.rollback);
      context?.live?.setBytes(offset);
      throw checksumMismatch();
    }
    this.hashes.commit(id, newOffset);
    await this.events.written(id, newOffset);
    // The response's Upload-Expires is computed from this object: the upload was just active.
    if (context?.upload) context.upload.creation_date = new Date().toISOString();
    return newOffset;
  }

  override async declareUploadLength(id: string, size: number): Promise<void> {
    await this.events.declaringLength(id, size);
    await this.base.declareUploadLength(id, size);
    await this.events.lengthDeclared(id, size);
  }

  /** Termination (DELETE): the stock removal, then the records end as cancelled. */
  override async remove(id: string): Promise<void> {
    await this.base.remove(id);
    this.hashes.forget(id);
    await this.events.terminated(id);
  }

  /** Makes a finished upload's `size` bytes one readable object (S3: completes its multipart upload). */
  async seal(id: string, size: number): Promise<void> {
    await this.storage.assembly(tusDataKey(id)).seal(size);
  }

  /**
   * After a finished upload's bytes moved to `media/`: whatever its key still holds goes, e.g. the piece a killed
   * instance was writing when it died (S3: an unfinished multipart upload). The info stays, for HEAD. A failure is
   * only logged: the upload is complete, and the sweeper aborts stale multipart uploads.
   */
  async removeLeftovers(id: string): Promise<void> {
    await this.storage.remove(tusDataKey(id)).catch((error: Error) => {
      this.logger.warn(`Leftovers of tus upload ${id} not removed: ${error.message}`);
    });
  }

  /** Deletes an upload's data file and info; missing ones are fine (cleanup runs more than once). */
  async discard(id: string): Promise<void> {
    this.hashes.forget(id);
    await this.storage.remove(tusDataKey(id));
    await this.kv.delete(id);
  }

  private async afterFailedWrite(id: string, offset: number, dropChunk: boolean): Promise<void> {
    this.hashes.forget(id);
    // A chunk that did not arrive whole cannot be verified against its checksum, and a refused one must not stay:
    // either is dropped entirely.
    if (dropChunk)
      await this.storage
        .assembly(tusDataKey(id))
        .truncate(offset)
        .catch(() => undefined);
    const size = await storedBytes(this.storage, id);
    if (size !== undefined) tusContext()?.live?.setBytes(size);
  }
}
