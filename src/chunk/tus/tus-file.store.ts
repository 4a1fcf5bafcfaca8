import { FileStore } from '@tus/file-store';
import { Upload } from '@tus/utils';
import type { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { StorageService } from '../../storage/storage.service';
import { checksumMismatch, ChunkChecksum } from './tus-checksum';
import { TusKvStore } from './tus-kv.store';
import { tusContext } from './tus-request-context';
import { UploadHashes } from './upload-hashes';
import type { WriteRules } from './tus-write-rules';
import { WriteTap } from './write-tap';

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
  storage: StorageService;
  kv: TusKvStore;
  expiryMs: number;
  hashes: UploadHashes;
  events: TusStoreEvents;
}

/**
 * @tus/file-store, data files in the storage root's `tus/` area and upload info in MongoDB, plus what the
 * stock store lacks: the checksum extension (a chunk whose Upload-Checksum fails is cut off the file again, so
 * the offset is unchanged), live progress, cancel, and an expiry that slides with activity.
 */
export class TusFileStore extends FileStore {
  private readonly storage: StorageService;
  private readonly hashes: UploadHashes;
  private readonly events: TusStoreEvents;

  constructor(options: TusFileStoreOptions) {
    super({
      directory: options.storage.path('tus'),
      configstore: options.kv,
      expirationPeriodInMilliseconds: options.expiryMs,
    });
    this.storage = options.storage;
    this.hashes = options.hashes;
    this.events = options.events;
    this.extensions = [...this.extensions, 'checksum'];
  }

  dataPath(id: string): string {
    return this.storage.path('tus', id);
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
      return new Upload({ id, size, offset: size, metadata: (await this.configstore.get(id))?.metadata });
    }
    const upload = await super.getUpload(id);
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
    const tap = new WriteTap({ live: context?.live, fileHash: fileHash?.hash, checksum, ...rules });

    let newOffset: number;
    try {
      // The stock FileStore.write reports every failure as a 500 FILE_WRITE_ERROR; writing through the storage
      // service keeps the cause, so a full disk answers 507 like the other upload routes.
      await this.writeBody(readable, tap, this.storage.createWriteStream(this.dataPath(id), 'r+', offset));
      newOffset = offset + tap.bytes;
    } catch (error) {
      await this.afterFailedWrite(id, offset, checksum !== undefined || tap.refusal !== undefined);
      if (tap.refusal !== undefined) {
        await this.events.refused(id, tap.refusal);
        throw tap.refusal;
      }
      throw context?.live?.signal.aborted ? context.live.signal.reason : error;
    } finally {
      rules.quota?.release();
    }
    if (checksum && !checksum.matches()) {
      await this.storage.truncate(this.dataPath(id), offset);
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
    await super.declareUploadLength(id, size);
    await this.events.lengthDeclared(id, size);
  }

  /** Termination (DELETE): the stock removal, then the records end as cancelled. */
  override async remove(id: string): Promise<void> {
    await super.remove(id);
    this.hashes.forget(id);
    await this.events.terminated(id);
  }

  /** Deletes an upload's data file and info; missing ones are fine (cleanup runs more than once). */
  async discard(id: string): Promise<void> {
    this.hashes.forget(id);
    await this.storage.remove(this.dataPath(id));
    await this.configstore.delete(id);
  }

  /**
   * Streams the body through the tap to the file. The body is piped, not pipelined: a failed write must not destroy
   * it, or @tus/server would answer at once, before this store has cut the refused bytes off and ended the upload.
   */
  private async writeBody(body: Readable, tap: WriteTap, file: Writable): Promise<void> {
    const written = pipeline(tap, file);
    const fail = (error?: Error) => tap.destroy(error ?? new Error('The request body closed before its end'));
    const closed = () => body.readableEnded || fail();
    body.once('error', fail).once('close', closed).pipe(tap);
    try {
      await written;
    } finally {
      body.off('error', fail).off('close', closed).unpipe(tap);
    }
  }

  private async afterFailedWrite(id: string, offset: number, dropChunk: boolean): Promise<void> {
    this.hashes.forget(id);
    // A chunk that did not arrive whole cannot be verified against its checksum, and a refused one must not stay:
    // either is dropped entirely.
    if (dropChunk) await this.storage.truncate(this.dataPath(id), offset).catch(() => undefined);
    const size = await this.storage.size(this.dataPath(id));
    if (size !== undefined) tusContext()?.live?.setBytes(size);
  }
}
