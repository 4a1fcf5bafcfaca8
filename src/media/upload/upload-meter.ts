import { createHash } from 'node:crypto';
import { Transform, TransformCallback } from 'node:stream';

/**
 * Sits between the file stream and the disk: hashes (SHA-256), counts, enforces the size limit and reports every
 * chunk to the live progress, all in one pass with no extra copy.
 */
export class UploadMeter extends Transform {
  bytes = 0;
  private readonly hash = createHash('sha256');

  constructor(
    private readonly maxBytes: number,
    private readonly onBytes: (bytes: number) => void,
    private readonly tooLarge: () => Error,
  ) {
    super({ highWaterMark: 256 * 1024 });
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.bytes > this.maxBytes) return callback(this.tooLarge());
    this.hash.update(chunk);
    this.onBytes(chunk.length);
    callback(null, chunk);
  }

  /** Hex SHA-256 of everything that went through. */
  digest(): string {
    return this.hash.digest('hex');
  }
}
