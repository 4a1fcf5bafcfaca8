import type { Readable, Writable } from 'node:stream';
import type { LiveUpload } from '../../progress';
import { quotaExceeded } from '../../quota';
import type { UploadClaim } from '../../upload-core';
import { asHttpError } from './chunk-answers';
import { chunkTooLarge, totalTooLarge } from './chunk-rules';
import { writeChunk } from './chunk-writer';

/** A chunk streamed to storage, waiting for its request's fields to be validated and committed. */
export interface StreamedChunk {
  /** Its storage key (in tmp/ or in its session). */
  key: string;
  size: number;
  sha256: string;
  /** Set when it streamed straight into a live session, whose progress already counted its bytes. */
  countedIn?: LiveUpload;
  /** Set once deleted (or used); releasing twice is a no-op. */
  released?: boolean;
}

/** Where a chunk streams to: tmp/ (session not known yet) or its session's folder. */
export interface ChunkTarget {
  key: string;
  stream: Writable;
}

export interface IntakeLimits {
  maxChunkBytes: number;
  maxTotalBytes: number;
  /** USER_QUOTA_BYTES, for the 413 that names it. */
  quotaBytes: number;
}

/**
 * Streams a chunk into `target` within the claim's quota reservation (and `sizeLimit`), feeding the claim's live
 * progress when it has one, so a cancel stops it. A failed chunk is deleted and its bytes taken back out of progress.
 */
export async function streamChunk(
  claim: UploadClaim,
  source: Readable,
  target: ChunkTarget,
  sizeLimit: number,
  limits: IntakeLimits,
  discard: (key: string) => Promise<void>,
): Promise<StreamedChunk> {
  const live = claim.attached ? claim.live : undefined;
  const reservation = claim.reservation;
  let counted = 0;
  let streamed = 0;
  const limit = Math.min(sizeLimit, reservation.room);
  try {
    const written = await writeChunk(source, target.stream, {
      limit,
      tooLarge: () =>
        limit < sizeLimit
          ? quotaExceeded(reservation.baseline, limits.quotaBytes, streamed)
          : sizeLimit >= limits.maxChunkBytes
            ? chunkTooLarge(limits.maxChunkBytes)
            : totalTooLarge(limits.maxTotalBytes),
      signal: live?.signal,
      onBytes: (bytes) => {
        streamed += bytes;
        reservation.grow(streamed);
        if (!live) return;
        counted += bytes;
        live.add(bytes);
      },
    });
    return { key: target.key, ...written, countedIn: live };
  } catch (error) {
    if (live && !live.ended) live.setBytes(Math.max(0, live.bytesUploaded - counted));
    await discard(target.key);
    throw asHttpError(error);
  }
}
