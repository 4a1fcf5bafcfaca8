import type { Hash } from 'node:crypto';
import { Transform, TransformCallback } from 'node:stream';
import type { LiveUpload } from '../../progress/live-upload';
import type { QuotaReservation } from '../../quota/quota-reservation';
import type { ChunkChecksum } from './tus-checksum';

/** The file's leading bytes already on disk, how many the content check needs, and the check (throws to refuse). */
export interface HeadCheck {
  prefix: Buffer;
  needed: number;
  check: (head: Buffer) => Promise<void>;
}

export interface WriteTapTargets {
  live?: LiveUpload;
  /** Running SHA-256 of the whole upload. */
  fileHash?: Hash;
  /** The Upload-Checksum of this chunk. */
  checksum?: ChunkChecksum;
  /** Grows with the bytes of an upload whose length is deferred; throws past the user's quota. */
  quota?: QuotaReservation;
  /** Set while the file's head has not been checked yet. */
  head?: HeadCheck;
}

/**
 * Sits between the request body and the data file: counts bytes into the live progress and the quota, feeds the
 * hashes, checks the content once its head has arrived (before that chunk reaches the disk), and stops the write
 * when the upload is cancelled. `refusal` is the error it stopped the write with (quota or content), if any.
 */
export class WriteTap extends Transform {
  bytes = 0;
  refusal?: Error;
  private readonly stopOnCancel?: () => void;
  private head?: { check: HeadCheck; chunks: Buffer[]; length: number };

  constructor(private readonly targets: WriteTapTargets) {
    super();
    if (targets.head) {
      const { prefix } = targets.head;
      this.head = { check: targets.head, chunks: [prefix], length: prefix.length };
    }
    const signal = targets.live?.signal;
    if (signal) {
      this.stopOnCancel = () => this.destroy(signal.reason as Error);
      if (signal.aborted) queueMicrotask(this.stopOnCancel);
      else signal.addEventListener('abort', this.stopOnCancel, { once: true });
    }
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.bytes += chunk.length;
    try {
      this.targets.quota?.grow(this.bytes);
    } catch (error) {
      return this.refuse(error, callback);
    }
    this.targets.fileHash?.update(chunk);
    this.targets.checksum?.update(chunk);
    this.targets.live?.add(chunk.length);
    const head = this.head;
    if (!head) return callback(null, chunk);
    head.chunks.push(chunk);
    head.length += chunk.length;
    if (head.length < head.check.needed) return callback(null, chunk);
    this.head = undefined;
    head.check.check(Buffer.concat(head.chunks, head.length)).then(
      () => callback(null, chunk),
      (error: unknown) => this.refuse(error, callback),
    );
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    if (this.stopOnCancel) this.targets.live?.signal.removeEventListener('abort', this.stopOnCancel);
    callback(error);
  }

  private refuse(error: unknown, callback: TransformCallback): void {
    this.refusal = error as Error;
    callback(this.refusal);
  }
}
