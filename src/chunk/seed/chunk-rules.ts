import { HttpStatus } from '@nestjs/common';
import { ApiError } from '../../common/errors/api-error';
import { ErrorCode } from '../../common/errors/error-code';
import { ReceivedChunk } from './schemas/chunk-session.schema';

/** The seed's `fileId`, made safe: it reaches queries, never paths. */
export const FILE_ID_PATTERN = /^[A-Za-z0-9_-]{1,128}$/;

/** Highest chunk index accepted, so a missing-chunk list or a session record can never grow without bound. */
export const MAX_CHUNK_INDEX = 99_999;

/** At most this many indexes are listed in a CHUNKS_MISSING error or the status route; `missingCount` has all. */
export const MISSING_LIST_LIMIT = 1000;

export const ChunkErrorCode = {
  FILE_REQUIRED: 'FILE_REQUIRED',
  CHUNK_CONFLICT: 'CHUNK_CONFLICT',
  CHUNKS_MISSING: 'CHUNKS_MISSING',
  CHECKSUM_MISMATCH: 'CHECKSUM_MISMATCH',
  CHUNK_INDEX_OUT_OF_RANGE: 'CHUNK_INDEX_OUT_OF_RANGE',
  TOTAL_CHUNKS_CONFLICT: 'TOTAL_CHUNKS_CONFLICT',
  UPLOAD_COMPLETED: 'UPLOAD_COMPLETED',
  UPLOAD_ENDED: 'UPLOAD_ENDED',
  UPLOAD_CANCELLED: 'UPLOAD_CANCELLED',
} as const;

/** What the session state needs to decide about one incoming chunk. */
export interface ChunkState {
  nextIndex: number;
  totalChunks: number | null;
  bytesReceived: number;
  chunks: ReceivedChunk[];
}

export interface IncomingChunk {
  index: number;
  size: number;
  sha256: string;
  totalChunks?: number;
}

/**
 * What to do with a chunk: `duplicate` (same bytes already received: nothing to do), `append` (it is the next
 * one: goes onto the assembly file), or `park` (arrived early: kept as a part until the gap fills).
 */
export type ChunkPlan = 'duplicate' | 'append' | 'park';

export const FILE_ID_MESSAGE = 'fileId must be 1-128 characters of A-Z a-z 0-9 _ -';

/** The same body the validation pipe gives a bad fileId, for checks that run before it (multipart order). */
export function invalidFileId(): ApiError {
  return new ApiError(HttpStatus.BAD_REQUEST, ErrorCode.VALIDATION_FAILED, FILE_ID_MESSAGE, {
    errors: { fileId: [FILE_ID_MESSAGE] },
  });
}

/** Decides what a chunk does to the session, or throws the 4xx that refuses it. Pure: no I/O. */
export function planChunk(state: ChunkState, chunk: IncomingChunk, maxTotalBytes: number): ChunkPlan {
  const existing = findChunk(state.chunks, chunk.index);
  if (existing) {
    if (existing.sha256 === chunk.sha256 && existing.size === chunk.size) return 'duplicate';
    throw new ApiError(
      HttpStatus.CONFLICT,
      ChunkErrorCode.CHUNK_CONFLICT,
      `Chunk ${chunk.index} was already received with different bytes`,
      { chunkIndex: chunk.index, sha256: existing.sha256, size: existing.size },
    );
  }
  const total = effectiveTotal(state, chunk.totalChunks);
  if (total !== null && chunk.index >= total) {
    throw new ApiError(
      HttpStatus.BAD_REQUEST,
      ChunkErrorCode.CHUNK_INDEX_OUT_OF_RANGE,
      `chunkIndex ${chunk.index} is not below totalChunks ${total}`,
    );
  }
  if (state.bytesReceived + chunk.size > maxTotalBytes) throw totalTooLarge(maxTotalBytes);
  return chunk.index === state.nextIndex ? 'append' : 'park';
}

/**
 * The session's total chunk count after this request: a first declaration is kept, a different one later is a
 * conflict, and a count below a chunk already received is impossible.
 */
export function effectiveTotal(state: ChunkState, declared: number | undefined): number | null {
  if (declared === undefined) return state.totalChunks;
  if (state.totalChunks !== null && state.totalChunks !== declared) {
    throw new ApiError(
      HttpStatus.CONFLICT,
      ChunkErrorCode.TOTAL_CHUNKS_CONFLICT,
      `totalChunks was declared as ${state.totalChunks}, not ${declared}`,
    );
  }
  const highest = state.chunks.length > 0 ? state.chunks[state.chunks.length - 1].index : -1;
  if (declared <= highest) {
    throw new ApiError(
      HttpStatus.CONFLICT,
      ChunkErrorCode.TOTAL_CHUNKS_CONFLICT,
      `totalChunks ${declared} is not above chunk ${highest}, which was already received`,
    );
  }
  return declared;
}

/**
 * Indexes a finished upload lacks: all of 0..totalChunks-1 when the count is known, otherwise every index below
 * the highest one seen (including `lastIndex`, the index the client says is last).
 */
export function missingIndexes(state: ChunkState, lastIndex = -1): number[] {
  const highest = state.chunks.length > 0 ? state.chunks[state.chunks.length - 1].index : -1;
  const last = state.totalChunks !== null ? state.totalChunks - 1 : Math.max(highest, lastIndex);
  const received = new Set(state.chunks.map((chunk) => chunk.index));
  const missing: number[] = [];
  for (let index = state.nextIndex; index <= last; index += 1) {
    if (!received.has(index)) missing.push(index);
  }
  return missing;
}

/** The chunk list with `chunk` inserted in index order. */
export function withChunk(chunks: ReceivedChunk[], chunk: ReceivedChunk): ReceivedChunk[] {
  const next = [...chunks, chunk];
  return next.sort((a, b) => a.index - b.index);
}

export function findChunk(chunks: ReceivedChunk[], index: number): ReceivedChunk | undefined {
  return chunks.find((chunk) => chunk.index === index);
}

export function chunkTooLarge(limit: number): ApiError {
  return new ApiError(
    HttpStatus.PAYLOAD_TOO_LARGE,
    ErrorCode.PAYLOAD_TOO_LARGE,
    `A chunk may be at most ${limit} bytes`,
    { limit },
  );
}

export function totalTooLarge(limit: number): ApiError {
  return new ApiError(
    HttpStatus.PAYLOAD_TOO_LARGE,
    ErrorCode.PAYLOAD_TOO_LARGE,
    `The upload would exceed its limit of ${limit} bytes`,
    { limit },
  );
}
