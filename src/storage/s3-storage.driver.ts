import { HttpStatus, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { DataStore, Upload } from '@tus/utils';
import { PassThrough, Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { buffer } from 'node:stream/consumers';
import { ApiError } from '../common/errors/api-error';
import { ErrorCode } from '../common/errors/error-code';
import { ObjectNotFoundError, RangeNotSatisfiableError, S3ObjectStore, StorageUnavailableError } from './s3';
import { S3WriteStream } from './s3/s3-write-stream';
import type { S3StoreOptions } from './s3';
import { Assembly, ByteRange, ListedObject, ObjectStat, StorageDriver } from './storage-driver';
import { keySegments } from './storage-key';

export interface S3DriverOptions {
  store: S3StoreOptions;
  /** `redirect`: content GETs answer 302 to a presigned URL (see `downloadUrl`). */
  downloadMode: 'stream' | 'redirect';
  /** How long a presigned content URL stays valid (SIGNED_URL_TTL, as the service's own signed links). */
  downloadTtlSeconds: number;
  /** Create the bucket at startup when missing (the embedded S3 server); otherwise it must exist. */
  createBucket?: boolean;
}

/**
 * Storage in an S3 bucket (S3ObjectStore, on the AWS SDK v3): a storage key is the object key. Writes stream into
 * multipart uploads with bounded memory, reads stream through, moves are server-side copies. Every S3 failure is a
 * StorageUnavailableError (503 STORAGE_UNAVAILABLE). S3 has no folders, so prefixes need no making.
 *
 * Not yet on S3: assemblies (seed chunk sessions, tus PATCHes) and the tus DataStore; both answer 501 (see
 * `assembly`), so the single-request upload and the library work and the chunked protocols refuse cleanly.
 */
export class S3StorageDriver extends StorageDriver implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(S3StorageDriver.name);
  readonly store: S3ObjectStore;

  constructor(private readonly options: S3DriverOptions) {
    super();
    this.store = new S3ObjectStore(options.store);
  }

  /** Fails startup with S3BucketCheckError, whose message is the one line to print. */
  async onModuleInit(): Promise<void> {
    await (this.options.createBucket ? this.store.ensureBucket() : this.store.checkBucket());
    this.logger.log(`Storing uploads in S3 ${this.store.location}`);
  }

  onModuleDestroy(): void {
    this.store.close();
  }

  openWrite(key: string): Writable {
    keySegments(key);
    return new S3WriteStream(this.store, key);
  }

  openRead(key: string, range?: ByteRange): Readable {
    keySegments(key);
    const out = new PassThrough({ highWaterMark: 1024 * 1024 });
    // The caller gets a stream at once; the GET starts behind it, and a destroyed `out` cuts the S3 response.
    this.store.read(key, range).then(
      (read) => {
        if (!read) return void out.destroy(missing(key));
        pipeline(read.stream, out).catch(() => undefined);
      },
      (error: Error) => out.destroy(error),
    );
    return out;
  }

  async readHead(key: string, length: number): Promise<Buffer> {
    keySegments(key);
    if (length <= 0) return Buffer.alloc(0);
    try {
      const read = await this.store.read(key, { start: 0, end: length - 1 });
      if (!read) throw missing(key);
      return await buffer(read.stream);
    } catch (error) {
      // An empty object has no byte 0 to start a range at.
      if (error instanceof RangeNotSatisfiableError) return Buffer.alloc(0);
      throw error;
    }
  }

  async stat(key: string): Promise<ObjectStat | undefined> {
    keySegments(key);
    const head = await this.store.head(key);
    if (!head) return undefined;
    return { size: head.size, modifiedAt: head.modifiedAt ?? new Date(0), etag: head.etag };
  }

  async promote(from: string, to: string): Promise<void> {
    await this.move(from, to);
  }

  async move(from: string, to: string): Promise<void> {
    keySegments(from);
    keySegments(to);
    await this.store.move(from, to);
  }

  async remove(key: string): Promise<void> {
    keySegments(key);
    await this.store.delete(key);
  }

  async removePrefix(prefix: string): Promise<void> {
    keySegments(prefix);
    // The slash keeps `chunks/u/s1` from matching `chunks/u/s10`.
    await this.store.deletePrefix(`${prefix}/`);
  }

  ensurePrefix(prefix: string): Promise<void> {
    return Promise.resolve().then(() => void keySegments(prefix));
  }

  async list(prefix: string): Promise<ListedObject[]> {
    keySegments(prefix);
    return this.store.list(`${prefix}/`);
  }

  override abortIncompleteWrites(prefix: string, olderThan: Date): Promise<number> {
    keySegments(prefix);
    return this.store.abortIncompleteUploads(`${prefix}/`, olderThan);
  }

  override async downloadUrl(
    key: string,
    options: { contentType?: string; contentDisposition?: string } = {},
  ): Promise<string | undefined> {
    keySegments(key);
    if (this.options.downloadMode !== 'redirect') return undefined;
    return this.store.presignGet(key, this.options.downloadTtlSeconds, options);
  }

  protected override probeFailure(error: unknown): string {
    return `bucket not writable (${problemName(error)})`;
  }

  assembly(key: string): Assembly {
    keySegments(key);
    throw notOnS3('chunked uploads (seed chunks, tus)');
  }

  /** The tus module builds its store at startup: this one boots, and refuses each upload with 501. */
  tusDataStore(): DataStore {
    return new UnavailableTusStore();
  }
}

/** The network code or S3 error name behind a failure, without the endpoint's address. */
function problemName(error: unknown): string {
  const cause = (error instanceof StorageUnavailableError ? error.cause : error) as {
    name?: string;
    code?: string;
  };
  const code = cause?.code ?? /\b(E[A-Z]{4,})\b/.exec(String((cause as Error)?.message))?.[1];
  return code ?? cause?.name ?? 'unknown error';
}

function missing(key: string): ObjectNotFoundError {
  return new ObjectNotFoundError(`no object at ${key}`);
}

function notOnS3(what: string): ApiError {
  return new ApiError(
    HttpStatus.NOT_IMPLEMENTED,
    ErrorCode.NOT_IMPLEMENTED,
    `${what} are not available with STORAGE_DRIVER=s3 yet; use the single-request upload`,
  );
}

/** Every call that would store tus bytes fails with 501 until the tus S3 store lands. */
class UnavailableTusStore extends DataStore {
  override create(): Promise<Upload> {
    return Promise.reject(notOnS3('tus uploads'));
  }

  override write(): Promise<number> {
    return Promise.reject(notOnS3('tus uploads'));
  }

  override getUpload(): Promise<Upload> {
    return Promise.reject(notOnS3('tus uploads'));
  }
}
