import { HttpStatus } from '@nestjs/common';
import { ApiError } from '../../common/errors/api-error';
import { ErrorCode } from '../../common/errors/error-code';
import { ReceivedChunks } from './received-chunks';

/** The seed's `fileId`, made safe: it reaches queries, never paths. */
export const FILE_ID_PATTERN = /^[A-Za-z0-9_-]{1,128}$/;

/**
 * Most chunks one session may have (indexes 0..9 999): an hour of 1-second MediaRecorder slices is 3 600, and every
 * chunk costs a manifest line and a quota charge (CHUNK_METADATA_BYTES). Above it: 400 TOO_MANY_CHUNKS.
 */
export const MAX_CHUNKS_PER_SESSION = 10_000;

/** Quota charged for each received chunk's metadata: its manifest line (≤ 90 bytes) and its in-memory entry. */
export const CHUNK_METADATA_BYTES = 256;

/** Quota charged for each open session's metadata: its record, its MediaUpload record and its folder. */
export const SESSION_METADATA_BYTES = 4096;

/** At most this many indexes are listed in a CHUNKS_MISSING error or the status route; `missingCount` has all. */
export const MISSING_LIST_LIMIT = 1000;

export const ChunkErrorCode = {
  FILE_REQUIRED: 'FILE_REQUIRED',
  CHUNK_CONFLICT: 'CHUNK_CONFLICT',
  CHUNKS_MISSING: 'CHUNKS_MISSING',
  CHECKSUM_MISMATCH: 'CHECKSUM_MISMATCH',
  CHUNK_INDEX_OUT_OF_RANGE: 'CHUNK_INDEX_OUT_OF_RANGE',
  TOO_MANY_CHUNKS: 'TOO_MANY_CHUNKS',
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
  received: ReceivedChunks;
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
  const existing = state.received.get(chunk.index);
  if (existing) {
    if (existing.sha256 === chunk.sha256 && existing.size === chunk.size) return 'duplicate';
    throw new ApiError(
      HttpStatus.CONFLICT,
      ChunkErrorCode.CHUNK_CONFLICT,
      `Chunk ${chunk.index} was already received with different bytes`,
      { chunkIndex: chunk.index, sha256: existing.sha256, size: existing.size },
    );
  }
  if (chunk.index >= MAX_CHUNKS_PER_SESSION) throw tooManyChunks();
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
  if (declared > MAX_CHUNKS_PER_SESSION) throw tooManyChunks();
  if (state.totalChunks !== null && state.totalChunks !== declared) {
    throw new ApiError(
      HttpStatus.CONFLICT,
      ChunkErrorCode.TOTAL_CHUNKS_CONFLICT,
      `totalChunks was declared as ${state.totalChunks}, not ${declared}`,
    );
  }
  const highest = state.received.highest;
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
  const highest = state.received.highest;
  const last = state.totalChunks !== null ? state.totalChunks - 1 : Math.max(highest, lastIndex);
  const missing: number[] = [];
  for (let index = state.nextIndex; index <= last; index += 1) {
    if (!state.received.get(index)) missing.push(index);
  }
  return missing;
}

export function tooManyChunks(): ApiError {
  return new ApiError(
    HttpStatus.BAD_REQUEST,
    ChunkErrorCode.TOO_MANY_CHUNKS,
    `An upload may have at most ${MAX_CHUNKS_PER_SESSION} chunks (indexes 0-${MAX_CHUNKS_PER_SESSION - 1})`,
    { limit: MAX_CHUNKS_PER_SESSION },
  );
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
