import type { Hash } from 'node:crypto';
import { Transform, TransformCallback } from 'node:stream';
import type { LiveUpload } from '../../progress/live-upload';
import type { ChunkChecksum } from './tus-checksum';

export interface WriteTapTargets {
  live?: LiveUpload;
  /** Running SHA-256 of the whole upload. */
  fileHash?: Hash;
  /** The Upload-Checksum of this chunk. */
  checksum?: ChunkChecksum;
}

/**
 * Sits between the request body and the data file: counts bytes into the live progress, feeds the hashes, and
 * stops the write when the upload is cancelled. A few additions per network chunk, no copies.
 */
export class WriteTap extends Transform {
  bytes = 0;
  private readonly stopOnCancel?: () => void;

  constructor(private readonly targets: WriteTapTargets) {
    super();
    const signal = targets.live?.signal;
    if (signal) {
      this.stopOnCancel = () => this.destroy(signal.reason as Error);
      if (signal.aborted) queueMicrotask(this.stopOnCancel);
      else signal.addEventListener('abort', this.stopOnCancel, { once: true });
    }
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.bytes += chunk.length;
    this.targets.fileHash?.update(chunk);
    this.targets.checksum?.update(chunk);
    this.targets.live?.add(chunk.length);
    callback(null, chunk);
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    if (this.stopOnCancel) this.targets.live?.signal.removeEventListener('abort', this.stopOnCancel);
    callback(error);
  }
}
