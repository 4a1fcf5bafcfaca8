import type { Readable, Writable } from 'node:stream';
import type { ByteBudget, HeadCheck, MeterProgress } from '../../upload-core';
import { pipeRequestBody, UploadHashes, UploadMeter } from '../../upload-core';

/** One request's bytes on their way into the upload's assembly. */
export interface BodyWrite {
  body: Readable;
  uploadId: string;
  file: Writable;
  offset: number;
  /** Most bytes this request may add (the upload's max-size or known length, minus the offset). */
  limit: number;
  tooLarge: () => Error;
  progress: MeterProgress;
  budget?: ByteBudget;
  head?: HeadCheck;
  /** Aborted when a newer request takes the upload over. */
  superseded: AbortSignal;
}

/** How the write ended: `error` unset when the whole body was stored. */
export interface BodyWritten {
  bytes: number;
  error?: unknown;
  /** The meter itself refused the bytes (size, quota, content), as opposed to a broken connection or storage. */
  refused: boolean;
}

/**
 * Streams a request body through the UploadMeter (limit, quota, content head check, progress, cancel) into the
 * upload's file, feeding the upload's running SHA-256. It never throws: what it stored stays stored (the draft:
 * "append as much as possible"), and the caller reads the durable offset from the storage.
 */
export async function writeBody(write: BodyWrite, hashes: UploadHashes): Promise<BodyWritten> {
  const fileHash = hashes.resume(write.uploadId, write.offset);
  const meter = new UploadMeter({
    limit: write.limit,
    tooLarge: write.tooLarge,
    sinks: fileHash ? [fileHash.hash] : [],
    ownHash: false,
    progress: write.progress,
    budget: write.budget,
    head: write.head,
    signal: write.superseded,
  });
  try {
    await pipeRequestBody(write.body, meter, write.file);
    hashes.commit(write.uploadId, write.offset + meter.bytes);
    return { bytes: meter.bytes, refused: false };
  } catch (error) {
    // The file may hold fewer bytes than the hash saw: the finaliser hashes the stored file instead.
    hashes.forget(write.uploadId);
    return { bytes: meter.bytes, error: meter.refusal ?? error, refused: meter.refusal !== undefined };
  }
}
