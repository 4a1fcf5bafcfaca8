import { createHash, Hash } from 'node:crypto';
import { Transform, TransformCallback } from 'node:stream';

/** Anything fed every byte that passes: the file's running SHA-256, a tus chunk's Upload-Checksum. */
export interface ByteSink {
  update(chunk: Buffer): unknown;
}

/** Counts bytes into something that may refuse them: the quota reservation of a deferred-length upload. */
export interface ByteBudget {
  /** Told the total bytes so far; throws to refuse the upload. */
  grow(total: number): void;
}

/** Live progress as the meter sees it: bytes to add, and a signal that aborts the write (cancel, expiry). */
export interface MeterProgress {
  add(bytes: number): void;
  readonly signal?: AbortSignal;
}

/**
 * A content check run once the stream's first `needed` bytes have passed, before the chunk that completes them goes
 * on: `prefix` is what the same upload already stored (a resumed tus upload), `check` throws to refuse.
 */
export interface HeadCheck {
  prefix: Buffer;
  needed: number;
  check: (head: Buffer) => Promise<void>;
}

export interface UploadMeterOptions {
  /** Most bytes allowed through; the byte past it fails the stream with `tooLarge()`. */
  limit?: number;
  tooLarge?: () => Error;
  /** Hashes the meter feeds besides its own SHA-256 (which `digest()` returns). */
  sinks?: ByteSink[];
  /** Set false when a caller-owned running hash (in `sinks`) replaces the meter's own. */
  ownHash?: boolean;
  progress?: MeterProgress;
  budget?: ByteBudget;
  head?: HeadCheck;
  /** Aborts the stream with the signal's reason, besides `progress.signal`. */
  signal?: AbortSignal;
  highWaterMark?: number;
}

/**
 * The one stream stage every upload's bytes pass through, whatever the protocol: counts, hashes, enforces the size
 * limit and the quota, reports progress, checks the content's head before it reaches storage, and stops the moment
 * the upload is cancelled. One pass, no copy: each chunk is forwarded as it came. `refusal` is the error the meter
 * itself stopped the stream with (limit, quota, content), as opposed to an error from either side of it.
 */
export class UploadMeter extends Transform {
  bytes = 0;
  refusal?: Error;
  private readonly hash?: Hash;
  private head?: { check: HeadCheck; chunks: Buffer[]; length: number };
  private readonly detach: Array<() => void> = [];

  constructor(private readonly options: UploadMeterOptions = {}) {
    super(options.highWaterMark === undefined ? {} : { highWaterMark: options.highWaterMark });
    if (options.ownHash !== false) this.hash = createHash('sha256');
    if (options.head) {
      this.head = { check: options.head, chunks: [options.head.prefix], length: options.head.prefix.length };
    }
    for (const signal of [options.progress?.signal, options.signal]) {
      if (signal) this.stopOn(signal);
    }
  }

  /** Hex SHA-256 of everything that went through (the meter's own hash). */
  digest(): string {
    if (!this.hash) throw new Error('This meter does not hash: ownHash is false');
    return this.hash.digest('hex');
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    const { limit, budget, sinks, progress } = this.options;
    if (limit !== undefined && this.bytes + chunk.length > limit) {
      return this.refuse(this.options.tooLarge?.() ?? new RangeError(`More than ${limit} bytes`), callback);
    }
    this.bytes += chunk.length;
    try {
      budget?.grow(this.bytes);
    } catch (error) {
      return this.refuse(error, callback);
    }
    this.hash?.update(chunk);
    if (sinks) for (const sink of sinks) sink.update(chunk);
    progress?.add(chunk.length);
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
    for (const off of this.detach.splice(0)) off();
    callback(error);
  }

  private stopOn(signal: AbortSignal): void {
    const stop = () =>
      this.destroy(signal.reason instanceof Error ? signal.reason : new Error(String(signal.reason)));
    if (signal.aborted) return queueMicrotask(stop);
    signal.addEventListener('abort', stop, { once: true });
    this.detach.push(() => signal.removeEventListener('abort', stop));
  }

  private refuse(error: unknown, callback: TransformCallback): void {
    this.refusal = error instanceof Error ? error : new Error(String(error));
    callback(this.refusal);
  }
}
