import {
  AbortMultipartUploadCommand,
  ChecksumAlgorithm,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  ListMultipartUploadsCommand,
  ListPartsCommand,
  S3Client,
  UploadPartCommand,
  UploadPartCopyCommand,
} from '@aws-sdk/client-s3';
import { Readable } from 'node:stream';
import { ExactLength } from './byte-streams';
import { CleanupRetry } from './cleanup-retry';
import { isMissingObject, isMissingUpload, ObjectNotFoundError, storageFailure } from './s3-errors';

/** When an aborted upload is looked for again (ms after the abort): a late part lands well within seconds. */
const ABORT_RECHECK_MS = [1_000, 5_000, 15_000];

/** S3's smallest part, except the last one of an upload. */
export const MIN_PART_BYTES = 5 * 1024 * 1024;
export const MAX_PARTS = 10_000;

/** One multipart upload: the key it completes into and S3's id for it. */
export interface MultipartRef {
  key: string;
  uploadId: string;
}

/** What `completeMultipart` needs of each part; keep it (e.g. on the chunk session) after `uploadPart`. */
export interface UploadedPart {
  partNumber: number;
  etag: string;
  /** Present when the SDK sent a checksum with the part (its default); completion must repeat it. */
  checksumCrc32?: string;
}

export interface IncompleteUpload extends MultipartRef {
  initiated?: Date;
}

/**
 * The multipart primitives, for objects assembled from pieces in any order (seed chunks): parts are numbered by
 * the caller, may arrive in any order or again (the last upload of a number wins), and `completeMultipart`
 * joins them in number order. S3ObjectStore builds on this class.
 */
export abstract class S3MultipartStore {
  protected constructor(
    protected readonly client: S3Client,
    /** For bodies that are streams: one attempt, since a consumed stream cannot be sent again. */
    protected readonly streamClient: S3Client,
    readonly bucket: string,
    protected readonly cleanup: CleanupRetry,
  ) {}

  /**
   * `checksums: false` creates the upload without a checksum algorithm: completion then needs no part checksums.
   * For uploads with UploadPartCopy parts (S3 assemblies): versitygw answers a copied part with the source object's
   * composite checksum (`…-2`), which it then refuses at completion.
   */
  async createMultipart(
    key: string,
    { contentType, checksums = true }: { contentType?: string; checksums?: boolean } = {},
  ): Promise<MultipartRef> {
    try {
      const { UploadId } = await this.client.send(
        new CreateMultipartUploadCommand({
          Bucket: this.bucket,
          Key: key,
          ContentType: contentType,
          // As lib-storage does: parts then carry CRC32 checksums, which S3 verifies and completion repeats.
          ChecksumAlgorithm: checksums && (await this.sendsChecksums()) ? ChecksumAlgorithm.CRC32 : undefined,
        }),
      );
      if (!UploadId) throw new Error('CreateMultipartUpload returned no UploadId');
      return { key, uploadId: UploadId };
    } catch (error) {
      throw storageFailure(`create multipart upload ${key}`, error);
    }
  }

  /**
   * Sends one part of exactly `length` bytes (≥ MIN_PART_BYTES unless it is the last). A stream body is read
   * once; if it fails or `signal` aborts, the request is cut and this rejects with that error.
   */
  async uploadPart(
    ref: MultipartRef,
    partNumber: number,
    body: Readable | Buffer,
    length: number,
    { signal }: { signal?: AbortSignal } = {},
  ): Promise<UploadedPart> {
    if (!Number.isInteger(partNumber) || partNumber < 1 || partNumber > MAX_PARTS) {
      throw new RangeError(`part number ${partNumber} is outside 1-${MAX_PARTS}`);
    }
    if (Buffer.isBuffer(body) && body.length !== length) {
      throw new RangeError(`the part is ${body.length} bytes, not ${length}`);
    }
    const stop = new AbortController();
    const onAbort = () => stop.abort(signal?.reason);
    signal?.addEventListener('abort', onAbort, { once: true });
    let bodyError: Error | undefined;
    let sent: Readable | Buffer = body;
    if (!Buffer.isBuffer(body)) {
      // A failing body would otherwise leave the request waiting for the rest: cut it instead.
      const fail = (error: Error) => {
        bodyError ??= error;
        stop.abort(error);
      };
      body.once('error', fail);
      sent = body.pipe(new ExactLength(length, fail));
    }
    try {
      if (signal?.aborted) throw signal.reason;
      const client = Buffer.isBuffer(body) ? this.client : this.streamClient;
      const result = await client.send(
        new UploadPartCommand({
          Bucket: this.bucket,
          Key: ref.key,
          UploadId: ref.uploadId,
          PartNumber: partNumber,
          Body: sent,
          ContentLength: length,
        }),
        { abortSignal: stop.signal },
      );
      if (!result.ETag) throw new Error(`UploadPart ${partNumber} returned no ETag`);
      return { partNumber, etag: result.ETag, checksumCrc32: result.ChecksumCRC32 };
    } catch (error) {
      if (bodyError) throw bodyError;
      if (signal?.aborted) throw signal.reason;
      throw storageFailure(`upload part ${partNumber} of ${ref.key}`, error);
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
  }

  /**
   * Sends one part copied server-side from an inclusive byte range of a stored object (no bytes through this
   * process; a range of at most 5 GiB, ≥ MIN_PART_BYTES unless it is the last part).
   */
  async uploadPartCopy(
    ref: MultipartRef,
    partNumber: number,
    sourceKey: string,
    range: { start: number; end: number },
  ): Promise<UploadedPart> {
    const source = `${this.bucket}/${sourceKey.split('/').map(encodeURIComponent).join('/')}`;
    try {
      const { CopyPartResult: result } = await this.client.send(
        new UploadPartCopyCommand({
          Bucket: this.bucket,
          Key: ref.key,
          UploadId: ref.uploadId,
          PartNumber: partNumber,
          CopySource: source,
          CopySourceRange: `bytes=${range.start}-${range.end}`,
        }),
      );
      if (!result?.ETag) throw new Error(`UploadPartCopy ${partNumber} returned no ETag`);
      return { partNumber, etag: result.ETag, checksumCrc32: result.ChecksumCRC32 };
    } catch (error) {
      if (isMissingObject(error)) throw new ObjectNotFoundError(`no object at ${sourceKey}`);
      throw storageFailure(`copy part ${partNumber} of ${ref.key} from ${sourceKey}`, error);
    }
  }

  /** The parts S3 holds for an upload (to resume after a restart), in number order. */
  async listParts(ref: MultipartRef): Promise<Array<UploadedPart & { size: number; modifiedAt?: Date }>> {
    const parts: Array<UploadedPart & { size: number; modifiedAt?: Date }> = [];
    let marker: string | undefined;
    try {
      do {
        const page = await this.client.send(
          new ListPartsCommand({
            Bucket: this.bucket,
            Key: ref.key,
            UploadId: ref.uploadId,
            PartNumberMarker: marker,
          }),
        );
        for (const part of page.Parts ?? []) {
          parts.push({
            partNumber: part.PartNumber ?? 0,
            etag: part.ETag ?? '',
            checksumCrc32: part.ChecksumCRC32,
            size: part.Size ?? 0,
            modifiedAt: part.LastModified,
          });
        }
        marker = page.IsTruncated ? page.NextPartNumberMarker : undefined;
      } while (marker);
    } catch (error) {
      throw storageFailure(`list parts of ${ref.key}`, error);
    }
    return parts.sort((a, b) => a.partNumber - b.partNumber);
  }

  /** Joins the parts, in number order whatever order they are given in, into the object at `ref.key`. */
  async completeMultipart(ref: MultipartRef, parts: UploadedPart[]): Promise<{ etag: string }> {
    const ordered = [...parts].sort((a, b) => a.partNumber - b.partNumber);
    try {
      const result = await this.client.send(
        new CompleteMultipartUploadCommand({
          Bucket: this.bucket,
          Key: ref.key,
          UploadId: ref.uploadId,
          MultipartUpload: {
            Parts: ordered.map((part) => ({
              PartNumber: part.partNumber,
              ETag: part.etag,
              ChecksumCRC32: part.checksumCrc32,
            })),
          },
        }),
      );
      return { etag: result.ETag ?? '' };
    } catch (error) {
      throw storageFailure(`complete multipart upload ${ref.key}`, error);
    }
  }

  /** Drops an upload and its parts; one that is already gone (completed or aborted) is fine. */
  async abortMultipart(ref: MultipartRef): Promise<void> {
    try {
      await this.client.send(
        new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: ref.key, UploadId: ref.uploadId }),
      );
    } catch (error) {
      if (!isMissingUpload(error)) throw storageFailure(`abort multipart upload ${ref.key}`, error);
    }
  }

  /** Multipart uploads under `prefix` that were neither completed nor aborted. */
  async listIncompleteUploads(prefix: string): Promise<IncompleteUpload[]> {
    const uploads: IncompleteUpload[] = [];
    let keyMarker: string | undefined;
    let uploadIdMarker: string | undefined;
    try {
      do {
        const page = await this.client.send(
          new ListMultipartUploadsCommand({
            Bucket: this.bucket,
            Prefix: prefix,
            KeyMarker: keyMarker,
            UploadIdMarker: uploadIdMarker,
          }),
        );
        for (const upload of page.Uploads ?? []) {
          if (upload.Key && upload.UploadId) {
            uploads.push({ key: upload.Key, uploadId: upload.UploadId, initiated: upload.Initiated });
          }
        }
        keyMarker = page.IsTruncated ? page.NextKeyMarker : undefined;
        uploadIdMarker = page.IsTruncated ? page.NextUploadIdMarker : undefined;
      } while (keyMarker);
    } catch (error) {
      throw storageFailure(`list multipart uploads under ${prefix}`, error);
    }
    return uploads;
  }

  /** Aborts the incomplete uploads under `prefix` (started before `olderThan`, when given); returns how many. */
  async abortIncompleteUploads(prefix: string, olderThan?: Date): Promise<number> {
    const stale = (await this.listIncompleteUploads(prefix)).filter(
      (upload) => !olderThan || (upload.initiated !== undefined && upload.initiated < olderThan),
    );
    for (const upload of stale) await this.abortMultipart(upload);
    return stale.length;
  }

  /**
   * Aborts an upload now, or keeps retrying in the background while S3 is unreachable. A part upload still in
   * flight when the abort lands can leave the upload listed again afterwards (AWS's AbortMultipartUpload docs advise
   * checking with ListParts and aborting again; versitygw does it in 2-6 of 200 client aborts), so the upload is
   * looked for again a little later, in the background, and aborted again if it is back.
   */
  protected discardUpload(ref: MultipartRef): Promise<boolean> {
    const aborted = this.cleanup.attempt(`abort multipart upload ${ref.key} (${ref.uploadId})`, () =>
      this.abortMultipart(ref),
    );
    for (const delayMs of ABORT_RECHECK_MS) {
      setTimeout(() => void this.abortIfStillThere(ref).catch(() => undefined), delayMs).unref();
    }
    return aborted;
  }

  private async abortIfStillThere(ref: MultipartRef): Promise<void> {
    try {
      await this.client.send(
        new ListPartsCommand({ Bucket: this.bucket, Key: ref.key, UploadId: ref.uploadId, MaxParts: 1 }),
      );
    } catch (error) {
      if (isMissingUpload(error)) return;
      throw error;
    }
    await this.abortMultipart(ref);
  }

  private async sendsChecksums(): Promise<boolean> {
    return (await this.client.config.requestChecksumCalculation()) === 'WHEN_SUPPORTED';
  }
}
