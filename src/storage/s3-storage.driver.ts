import { Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import type { DataStore } from '@tus/utils';
import { PassThrough, Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { buffer } from 'node:stream/consumers';
import { ObjectNotFoundError, RangeNotSatisfiableError, S3ObjectStore, StorageUnavailableError } from './s3';
import { S3TusStore } from './s3/s3-tus-store';
import { S3WriteStream } from './s3/s3-write-stream';
import { S3Assembly } from './s3/s3-assembly';
import { activeSince } from './s3/assembly-io';
import type { S3StoreOptions } from './s3';
import {
  Assembly,
  ByteRange,
  ListedObject,
  ObjectStat,
  StorageDriver,
  TusDataStoreOptions,
} from './storage-driver';
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
 * Assemblies (seed chunk sessions, tus PATCHes) are multipart uploads plus tail pieces, their whole state in the
 * bucket (see S3Assembly), so any instance continues one where another left off.
 */
export class S3StorageDriver extends StorageDriver implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(S3StorageDriver.name);
  override readonly promoteCopies = true;
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

  /** The object, and everything an assembly at `key` holds (its multipart upload, its tail pieces). */
  async remove(key: string): Promise<void> {
    keySegments(key);
    await S3Assembly.remove(this.store, key);
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

  /** Skips an upload started before `olderThan` that still had a part or tail piece since (a long, live session). */
  override async abortIncompleteWrites(prefix: string, olderThan: Date): Promise<number> {
    keySegments(prefix);
    const started = await this.store.listIncompleteUploads(`${prefix}/`);
    let aborted = 0;
    for (const upload of started) {
      if (!upload.initiated || upload.initiated >= olderThan) continue;
      if (await activeSince(this.store, upload, olderThan)) continue;
      await this.store.abortMultipart(upload);
      aborted += 1;
    }
    return aborted;
  }

  override async downloadUrl(
    key: string,
    options: { contentType?: string; contentDisposition?: string } = {},
  ): Promise<string | undefined> {
    keySegments(key);
    if (this.options.downloadMode !== 'redirect') return undefined;
    return this.store.presignGet(key, this.options.downloadTtlSeconds, options);
  }

  toolInput(key: string, ttlSeconds: number): Promise<string> {
    keySegments(key);
    return this.store.presignGet(key, ttlSeconds);
  }

  protected override probeFailure(error: unknown): string {
    return `bucket not writable (${problemName(error)})`;
  }

  assembly(key: string): Assembly {
    keySegments(key);
    return new S3Assembly(key, this.store, this.options.store.partSizeBytes);
  }

  /** tus bytes in the assembly at `tus/<id>`, their info in the tus module's KvStore (see S3TusStore). */
  tusDataStore({ configstore, expiryMs }: TusDataStoreOptions): DataStore {
    return new S3TusStore({ assemblies: this, configstore, expiryMs });
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
