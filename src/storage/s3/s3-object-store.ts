import {
  CopyObjectCommand,
  CreateBucketCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { Readable } from 'node:stream';
import { writeInParts } from './part-writer';
import { CleanupRetry } from './cleanup-retry';
import { createS3Client } from './s3-client';
import {
  bucketProblem,
  isInvalidRange,
  isMissingObject,
  ObjectNotFoundError,
  RangeNotSatisfiableError,
  S3BucketCheckError,
  storageFailure,
} from './s3-errors';
import { MultipartRef, S3MultipartStore } from './s3-multipart-store';
import type { ByteRange, ObjectRead, StoredObject } from './object-types';
import type { S3StoreOptions } from './s3-store-options';

/**
 * Objects in one S3 bucket, with bounded memory: writes stream into a multipart upload (S3_PART_SIZE parts,
 * S3_QUEUE_SIZE in flight, reused buffers), reads stream through. Every S3 or network failure becomes
 * StorageUnavailableError (503 STORAGE_UNAVAILABLE); a failed or aborted write leaves no object and no parts.
 * The store never destroys a caller's source stream: it stops reading it, and the caller decides.
 */
export class S3ObjectStore extends S3MultipartStore {
  private readonly presigner: S3Client;

  constructor(private readonly options: S3StoreOptions) {
    super(
      createS3Client(options),
      createS3Client(options, { maxAttempts: 1 }),
      options.bucket,
      new CleanupRetry(),
    );
    this.presigner = options.presignEndpoint
      ? createS3Client(options, { endpoint: options.presignEndpoint })
      : this.client;
  }

  /** Where the bucket lives, for log lines. */
  get location(): string {
    return `bucket "${this.bucket}" at ${this.options.endpoint ?? `AWS S3 (${this.options.region})`}`;
  }

  /** Part buffers in flight per write (S3_QUEUE_SIZE): an assembly's tail writes are bounded alike. */
  get queueSize(): number {
    return this.options.queueSize;
  }

  /** Cleanups still waiting for S3 to come back (see CleanupRetry). */
  get pendingCleanups(): number {
    return this.cleanup.size;
  }

  /** Retries the pending cleanups now; resolves with how many are still pending. */
  retryCleanups(): Promise<number> {
    return this.cleanup.flush();
  }

  /**
   * Streams `source` into a new object at `key` (see part-writer.ts: S3_PART_SIZE parts, S3_QUEUE_SIZE in
   * flight). Rejects with the source's error if it fails, with `signal.reason` if aborted, with
   * StorageUnavailableError if S3 does; in every case no object and no multipart upload is left (an abort that
   * fails while S3 is down is retried in the background).
   */
  async write(
    key: string,
    source: Readable,
    { signal, contentType }: { signal?: AbortSignal; contentType?: string } = {},
  ): Promise<{ size: number; etag: string }> {
    let multipart: MultipartRef | undefined;
    let put = false;
    let written: { size: number; etag: string };
    try {
      written = await writeInParts(this, key, source, {
        partSize: this.options.partSizeBytes,
        queueSize: this.options.queueSize,
        signal,
        contentType,
        onMultipart: (ref) => (multipart = ref),
        onPut: () => (put = true),
      });
    } catch (error) {
      if (multipart) await this.discardUpload(multipart);
      // A cut PUT may still have landed.
      else if (put) await this.discardObject(key);
      throw error;
    }
    if (!signal?.aborted) return written;
    // Aborted after the last byte: the object was completed meanwhile.
    await this.discardObject(key);
    throw signal.reason;
  }

  /** A whole object from memory in one request (small objects: one part's worth at most). */
  async putObject(
    key: string,
    body: Buffer,
    { contentType, signal }: { contentType?: string; signal?: AbortSignal } = {},
  ): Promise<{ etag: string }> {
    try {
      const result = await this.client.send(
        new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: body, ContentType: contentType }),
        { abortSignal: signal },
      );
      return { etag: result.ETag ?? '' };
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      throw storageFailure(`put ${key}`, error);
    }
  }

  /** The object's bytes (or an inclusive range of them), streamed from S3; null when there is no object. */
  async read(
    key: string,
    range?: ByteRange,
    { signal }: { signal?: AbortSignal } = {},
  ): Promise<ObjectRead | null> {
    try {
      const result = await this.client.send(
        new GetObjectCommand({
          Bucket: this.bucket,
          Key: key,
          Range: range ? `bytes=${range.start}-${range.end}` : undefined,
        }),
        { abortSignal: signal },
      );
      const length = result.ContentLength ?? 0;
      const total = /\/(\d+)$/.exec(result.ContentRange ?? '')?.[1];
      const served = /^bytes (\d+)-(\d+)\//.exec(result.ContentRange ?? '');
      return {
        stream: result.Body as Readable,
        length,
        size: total ? Number(total) : length,
        etag: result.ETag ?? '',
        contentType: result.ContentType,
        modifiedAt: result.LastModified,
        range: served ? { start: Number(served[1]), end: Number(served[2]) } : undefined,
      };
    } catch (error) {
      if (isMissingObject(error)) return null;
      if (isInvalidRange(error))
        throw new RangeNotSatisfiableError(`range ${range?.start}-${range?.end} of ${key}`);
      throw storageFailure(`read ${key}`, error);
    }
  }

  async head(key: string): Promise<StoredObject | null> {
    try {
      const result = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      return {
        size: result.ContentLength ?? 0,
        etag: result.ETag ?? '',
        contentType: result.ContentType,
        modifiedAt: result.LastModified,
      };
    } catch (error) {
      if (isMissingObject(error)) return null;
      throw storageFailure(`head ${key}`, error);
    }
  }

  /** Deletes an object; a missing one is fine (cleanup runs more than once). */
  async delete(key: string): Promise<void> {
    try {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }));
    } catch (error) {
      throw storageFailure(`delete ${key}`, error);
    }
  }

  /** Deletes every object under `prefix` and aborts every incomplete multipart upload under it. */
  async deletePrefix(prefix: string): Promise<{ objects: number; uploads: number }> {
    if (!prefix) throw new RangeError('deletePrefix needs a non-empty prefix');
    let objects = 0;
    let token: string | undefined;
    try {
      do {
        const page = await this.client.send(
          new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, ContinuationToken: token }),
        );
        const keys = (page.Contents ?? []).flatMap((object) => (object.Key ? [{ Key: object.Key }] : []));
        if (keys.length > 0) {
          const result = await this.client.send(
            new DeleteObjectsCommand({ Bucket: this.bucket, Delete: { Objects: keys, Quiet: true } }),
          );
          const failed = result.Errors?.[0];
          if (failed)
            throw Object.assign(new Error(`${failed.Key}: ${failed.Message}`), { name: failed.Code });
          objects += keys.length;
        }
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
    } catch (error) {
      throw storageFailure(`delete ${prefix}*`, error);
    }
    return { objects, uploads: await this.abortIncompleteUploads(prefix) };
  }

  /** Every object whose key starts with `prefix`, page after page. */
  async list(prefix: string): Promise<Array<{ key: string; size: number; modifiedAt: Date }>> {
    const objects: Array<{ key: string; size: number; modifiedAt: Date }> = [];
    let token: string | undefined;
    try {
      do {
        const page = await this.client.send(
          new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, ContinuationToken: token }),
        );
        for (const object of page.Contents ?? []) {
          if (!object.Key) continue;
          objects.push({
            key: object.Key,
            size: object.Size ?? 0,
            modifiedAt: object.LastModified ?? new Date(0),
          });
        }
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
    } catch (error) {
      throw storageFailure(`list ${prefix}*`, error);
    }
    return objects;
  }

  /** Server-side copy (no bytes through this process), replacing `to`. Objects up to 5 GiB. */
  async copy(from: string, to: string): Promise<{ etag: string }> {
    const source = `${this.bucket}/${from.split('/').map(encodeURIComponent).join('/')}`;
    try {
      const result = await this.client.send(
        new CopyObjectCommand({ Bucket: this.bucket, Key: to, CopySource: source }),
      );
      return { etag: result.CopyObjectResult?.ETag ?? '' };
    } catch (error) {
      if (isMissingObject(error)) throw new ObjectNotFoundError(`no object at ${from}`);
      throw storageFailure(`copy ${from} to ${to}`, error);
    }
  }

  /** Copy, then delete the source: S3 has no rename. */
  async move(from: string, to: string): Promise<{ etag: string }> {
    const result = await this.copy(from, to);
    await this.delete(from);
    return result;
  }

  /** A URL that GETs the object without credentials for `ttlSeconds` (S3_DOWNLOAD_MODE=redirect). */
  presignGet(
    key: string,
    ttlSeconds: number,
    { contentType, contentDisposition }: { contentType?: string; contentDisposition?: string } = {},
  ): Promise<string> {
    const command = new GetObjectCommand({
      Bucket: this.bucket,
      Key: key,
      ResponseContentType: contentType,
      ResponseContentDisposition: contentDisposition,
    });
    return getSignedUrl(this.presigner, command, { expiresIn: ttlSeconds });
  }

  /**
   * Startup check: rejects with S3BucketCheckError, one line saying which bucket, where, and why. A one-key
   * listing rather than HeadBucket: its error has a body naming the cause (HEAD answers a bare status).
   */
  async checkBucket(): Promise<void> {
    try {
      await this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, MaxKeys: 1 }));
    } catch (error) {
      throw new S3BucketCheckError(`S3 ${this.location} is not usable: ${bucketProblem(error)}`);
    }
  }

  /** Creates the bucket when missing (the embedded server), then checks it. */
  async ensureBucket(): Promise<void> {
    try {
      await this.client.send(new CreateBucketCommand({ Bucket: this.bucket }));
    } catch {
      // It exists already, or creating is not allowed: the check says whether the bucket is usable.
    }
    await this.checkBucket();
  }

  /** Stops background retries and closes the connection pools. */
  close(): void {
    this.cleanup.stop();
    for (const client of new Set([this.client, this.streamClient, this.presigner])) client.destroy();
  }

  /** Deletes an object now, or keeps retrying in the background while S3 is unreachable. */
  private discardObject(key: string): Promise<boolean> {
    return this.cleanup.attempt(`delete ${key}`, () => this.delete(key));
  }
}
