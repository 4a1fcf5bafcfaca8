import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { UploadMeter } from '../../upload-core';

/** What was stored of one chunk. */
export interface WrittenChunk {
  size: number;
  sha256: string;
}

export interface ChunkWriteOptions {
  /** Most bytes allowed; one more fails the write with `tooLarge()`. */
  limit: number;
  tooLarge: () => Error;
  /** Aborts the write (a cancelled upload); the write fails with `signal.reason`. */
  signal?: AbortSignal;
  /** Told of every piece of bytes as it passes (live progress). */
  onBytes?: (bytes: number) => void;
}

/**
 * Streams one chunk from `source` into `sink`, hashing as it goes. On failure the rest of `source` is drained
 * (not destroyed), so the multipart parser can finish the request and answer with our error; the caller deletes
 * whatever reached the sink.
 */
export async function writeChunk(
  source: Readable,
  sink: Writable,
  options: ChunkWriteOptions,
): Promise<WrittenChunk> {
  const meter = new UploadMeter({
    limit: options.limit,
    tooLarge: options.tooLarge,
    progress: options.onBytes && { add: options.onBytes },
  });
  const forwardError = (error: Error) => meter.destroy(error);
  source.once('error', forwardError);
  source.pipe(meter);
  try {
    // The part may have failed (a truncated body) before this ran: a destroyed source never ends, so the pipeline
    // would wait forever with the sink's file open.
    if (source.destroyed) throw source.errored ?? new Error('Unexpected end of form');
    await pipeline(meter, sink, { signal: options.signal });
    return { size: meter.bytes, sha256: meter.digest() };
  } catch (error) {
    source.unpipe(meter);
    source.resume();
    sink.destroy();
    // A file stream destroyed before its open() finished still creates the file: wait until it is closed, so the
    // caller's delete comes after it and no empty file is orphaned.
    if (!sink.closed) await new Promise<void>((done) => sink.once('close', () => done()));
    if (options.signal?.aborted) throw options.signal.reason;
    throw error;
  } finally {
    source.off('error', forwardError);
  }
}
