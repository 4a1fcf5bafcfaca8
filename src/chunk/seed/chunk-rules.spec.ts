import { ApiError } from '../../common/errors/api-error';
import { ChunkState, effectiveTotal, MAX_CHUNKS_PER_SESSION, missingIndexes, planChunk } from './chunk-rules';
import { ReceivedChunks } from './received-chunks';

const chunk = (index: number, size = 10, sha256 = `sha-${index}`) => ({ index, size, sha256 });
const state = (indexes: number[], nextIndex: number, totalChunks: number | null = null): ChunkState => ({
  nextIndex,
  totalChunks,
  bytesReceived: indexes.length * 10,
  received: indexes.reduce((set, index) => (set.add(chunk(index)), set), new ReceivedChunks()),
});
const codeOf = (fn: () => unknown) => {
  try {
    fn();
  } catch (error) {
    return {
      status: (error as ApiError).getStatus(),
      error: ((error as ApiError).getResponse() as { error: string }).error,
    };
  }
  return undefined;
};

describe('chunk rules', () => {
  it('appends the next chunk and parks a later one', () => {
    expect(planChunk(state([0], 1), { ...chunk(1) }, 1000)).toBe('append');
    expect(planChunk(state([0], 1), { ...chunk(3) }, 1000)).toBe('park');
  });

  it('treats the same bytes again as a duplicate and other bytes as a 409 conflict', () => {
    expect(planChunk(state([0, 2], 1), { ...chunk(2) }, 1000)).toBe('duplicate');
    expect(codeOf(() => planChunk(state([0, 2], 1), { ...chunk(2, 10, 'other') }, 1000))).toEqual({
      status: 409,
      error: 'CHUNK_CONFLICT',
    });
    expect(codeOf(() => planChunk(state([0], 1), { ...chunk(0, 11) }, 1000))?.error).toBe('CHUNK_CONFLICT');
  });

  it('refuses a chunk past the total size limit with 413, but not a duplicate', () => {
    expect(codeOf(() => planChunk(state([0, 1], 2), { ...chunk(2, 1) }, 20))).toEqual({
      status: 413,
      error: 'PAYLOAD_TOO_LARGE',
    });
    expect(planChunk(state([0, 1], 2), { ...chunk(1) }, 20)).toBe('duplicate');
  });

  it('keeps the first declared totalChunks and refuses indexes at or beyond it', () => {
    expect(effectiveTotal(state([0], 1), 3)).toBe(3);
    expect(effectiveTotal(state([0], 1, 3), undefined)).toBe(3);
    expect(codeOf(() => effectiveTotal(state([0], 1, 3), 4))?.error).toBe('TOTAL_CHUNKS_CONFLICT');
    expect(codeOf(() => effectiveTotal(state([0, 4], 1), 4))?.error).toBe('TOTAL_CHUNKS_CONFLICT');
    expect(codeOf(() => planChunk(state([0], 1, 3), { ...chunk(3) }, 1000))).toEqual({
      status: 400,
      error: 'CHUNK_INDEX_OUT_OF_RANGE',
    });
  });

  it('lists missing indexes below the highest seen, or below totalChunks when declared', () => {
    expect(missingIndexes(state([0, 2, 5], 1))).toEqual([1, 3, 4]);
    expect(missingIndexes(state([0, 1], 2), 3)).toEqual([2, 3]);
    expect(missingIndexes(state([0, 1], 2, 4))).toEqual([2, 3]);
    expect(missingIndexes(state([0, 1, 2], 3))).toEqual([]);
    expect(missingIndexes(state([], 0), 0)).toEqual([0]);
  });

  it('refuses a chunk index or totalChunks past MAX_CHUNKS_PER_SESSION with 400 TOO_MANY_CHUNKS', () => {
    const last = MAX_CHUNKS_PER_SESSION - 1;
    expect(planChunk(state([0], 1), { ...chunk(last) }, 1000)).toBe('park');
    expect(effectiveTotal(state([0], 1), MAX_CHUNKS_PER_SESSION)).toBe(MAX_CHUNKS_PER_SESSION);
    const tooMany = { status: 400, error: 'TOO_MANY_CHUNKS' };
    expect(codeOf(() => planChunk(state([0], 1), { ...chunk(last + 1) }, 1000))).toEqual(tooMany);
    expect(codeOf(() => effectiveTotal(state([0], 1), MAX_CHUNKS_PER_SESSION + 1))).toEqual(tooMany);
  });
});
