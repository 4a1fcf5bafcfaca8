import { DataStore, ERRORS, Upload, type KvStore } from '@tus/utils';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Assembly } from '../storage-driver';
import { storageKey } from '../storage-key';

/** What the store needs of its driver: the assembly of a key, and removing everything it holds. */
export interface TusAssemblies {
  assembly(key: string): Assembly;
  remove(key: string): Promise<void>;
}

export interface S3TusStoreOptions {
  assemblies: TusAssemblies;
  /** Upload info (MongoDB): the store keeps only the bytes. */
  configstore: KvStore<Upload>;
  expiryMs: number;
}

/**
 * The tus DataStore on S3: an upload's bytes are the Assembly at `tus/<id>` (a multipart upload with a bounded
 * tail, shared with seed chunks), its info lives in the given KvStore, and its offset is the assembly's length, read
 * from the bucket, so any instance answers HEAD for an upload another one (perhaps a crashed one) was writing.
 * Not @tus/s3-store: it keeps `.info` objects of its own, sends parts as bytes arrive and cannot cut a refused
 * chunk off again, completes the object inside `write` (before our checksum verdict), and cannot read an
 * unfinished upload's head (docs/architecture.md, "Storage").
 */
export class S3TusStore extends DataStore {
  private readonly assemblies: TusAssemblies;
  private readonly configstore: KvStore<Upload>;
  private readonly expiryMs: number;

  constructor(options: S3TusStoreOptions) {
    super();
    this.assemblies = options.assemblies;
    this.configstore = options.configstore;
    this.expiryMs = options.expiryMs;
    // As @tus/file-store (the local driver's store) advertises; checksum is added by the tus module.
    this.extensions = [
      'creation',
      'creation-with-upload',
      'creation-defer-length',
      'termination',
      'expiration',
    ];
  }

  override async create(upload: Upload): Promise<Upload> {
    upload.creation_date ??= new Date().toISOString();
    // An empty object, as @tus/file-store makes: the first PATCH appends to it.
    await this.assemblyOf(upload.id).truncate(0);
    await this.configstore.set(upload.id, upload);
    upload.storage = { type: 's3', path: dataKey(upload.id) };
    return upload;
  }

  override async getUpload(id: string): Promise<Upload> {
    const info = await this.configstore.get(id);
    if (!info) notFound();
    return new Upload({
      id,
      size: info.size,
      offset: (await this.assemblyOf(id).length()) ?? 0,
      metadata: info.metadata,
      creation_date: info.creation_date,
      storage: { type: 's3', path: dataKey(id) },
    });
  }

  /** Appends at `offset`, which must be the stored length (tus PATCH semantics; the handler has checked it). */
  override async write(readable: Readable, id: string, offset: number): Promise<number> {
    let received = 0;
    const count = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        received += chunk.length;
        done(null, chunk);
      },
    });
    await pipeline(readable, count, this.assemblyOf(id).openWriteAt(offset));
    return offset + received;
  }

  override async declareUploadLength(id: string, size: number): Promise<void> {
    const info = await this.configstore.get(id);
    if (!info) notFound();
    info.size = size;
    await this.configstore.set(id, info);
  }

  /** Termination: aborts the multipart upload, deletes every piece, then the info. */
  override async remove(id: string): Promise<void> {
    if (!(await this.configstore.get(id))) notFound();
    await this.assemblies.remove(dataKey(id));
    await this.configstore.delete(id);
  }

  override getExpiration(): number {
    return this.expiryMs;
  }

  /**
   * Removes unfinished uploads created more than the expiry ago, as @tus/file-store does. An upload with no bytes
   * stored is kept: its info outlives a finished upload (whose bytes are in `media/`) for its HEAD answer.
   */
  override async deleteExpired(): Promise<number> {
    if (this.expiryMs <= 0 || !this.configstore.list) return 0;
    const cutoff = Date.now() - this.expiryMs;
    let removed = 0;
    for (const id of await this.configstore.list()) {
      const info = await this.configstore.get(id);
      if (!info?.creation_date || new Date(info.creation_date).getTime() >= cutoff) continue;
      const length = await this.assemblyOf(id).length();
      if (length === undefined || length === info.size) continue;
      await this.remove(id);
      removed += 1;
    }
    return removed;
  }

  private assemblyOf(id: string): Assembly {
    return this.assemblies.assembly(dataKey(id));
  }
}

/** Where the driver keeps a tus upload's bytes (see StorageDriver.tusDataStore). */
function dataKey(id: string): string {
  return storageKey('tus', id);
}

/** @tus/server answers its own error objects (status and body), as @tus/file-store throws them. */
function notFound(): never {
  // eslint-disable-next-line @typescript-eslint/only-throw-error
  throw ERRORS.FILE_NOT_FOUND;
}
